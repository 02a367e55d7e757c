//! The data manager's database: users and sessions, in SQLite by default or PostgreSQL when
//! `DATABASE_URL` names one, through one code path (`sqlx`'s `Any` driver; both accept
//! `$1` parameters and `RETURNING`).
//!
//! Every operation runs under a [`DatabaseOperation`] guard, so each one is a `database`
//! event with its duration, rows affected, `slow_query` flag and `db_error`, and nothing in
//! the handlers logs a query by hand.

use std::time::Duration;

use logfleet_model::DbAction;
use logfleet_sdk::DatabaseOperation;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};

use crate::faults::QueryFault;

/// A failed database operation, already logged by its guard.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The driver failed.
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    /// A unique constraint refused the write (username taken).
    #[error("already exists")]
    Conflict,
    /// The demo's fault injection failed the query.
    #[error("{0}")]
    Injected(&'static str),
}

/// A stored user.
#[derive(Debug, Clone, serde::Serialize)]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// Unique login name.
    pub username: String,
    /// Contact address.
    pub email: String,
    /// Display name.
    pub full_name: String,
    /// Free text.
    pub bio: String,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// Argon2 PHC string; never serialised.
    #[serde(skip)]
    pub password_hash: String,
}

/// A login session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The bearer token's value.
    pub token: String,
    /// The session's name in logs.
    pub session_id: String,
    /// Whose session.
    pub user_id: i64,
    /// Epoch milliseconds.
    pub created_at_ms: i64,
}

/// Which SQL dialect the pool speaks, for the little DDL that differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Sqlite,
    Postgres,
}

/// The connection pool and the demo's knobs for slow queries.
#[derive(Debug, Clone)]
pub struct Database {
    pool: AnyPool,
    dialect: Dialect,
}

impl Database {
    /// Connects (creating the SQLite file if needed) and creates the tables.
    pub async fn connect(url: &str) -> anyhow::Result<Database> {
        install_default_drivers();
        let dialect = if url.starts_with("postgres") {
            Dialect::Postgres
        } else {
            Dialect::Sqlite
        };
        // SQLite serialises writers anyway; one connection avoids "database is locked".
        let max_connections = if dialect == Dialect::Sqlite { 1 } else { 8 };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        let database = Database { pool, dialect };
        database.migrate().await?;
        Ok(database)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        let id_column = match self.dialect {
            Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Dialect::Postgres => "BIGSERIAL PRIMARY KEY",
        };
        if self.dialect == Dialect::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&self.pool)
                .await?;
        }
        sqlx::query(&format!(
            "CREATE TABLE IF NOT EXISTS users (
                id {id_column},
                username TEXT NOT NULL UNIQUE,
                email TEXT NOT NULL,
                password_hash TEXT NOT NULL,
                full_name TEXT NOT NULL DEFAULT '',
                bio TEXT NOT NULL DEFAULT '',
                created_at TEXT NOT NULL
            )"
        ))
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS sessions (
                token TEXT PRIMARY KEY,
                session_id TEXT NOT NULL,
                user_id BIGINT NOT NULL,
                created_at_ms BIGINT NOT NULL
            )",
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Inserts a user; `Conflict` when the username is taken.
    pub async fn create_user(
        &self,
        username: &str,
        email: &str,
        password_hash: &str,
        fault: QueryFault,
    ) -> Result<i64, DbError> {
        let operation = DatabaseOperation::start("USER_CREATE", "USER", DbAction::Create)
            .field("username", username);
        if let Err(error) = fault.apply().await {
            operation.fail(&error);
            return Err(DbError::Injected(error));
        }
        let created_at = logfleet_model::format_timestamp(time_now());
        let result = sqlx::query(
            "INSERT INTO users (username, email, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(username)
        .bind(email)
        .bind(password_hash)
        .bind(created_at)
        .fetch_one(&self.pool)
        .await;
        match result {
            Ok(row) => {
                operation.finish(1);
                Ok(row.try_get::<i64, _>("id")?)
            }
            Err(error) if is_unique_violation(&error) => {
                operation.fail(&"username already exists");
                Err(DbError::Conflict)
            }
            Err(error) => {
                operation.fail(&error);
                Err(error.into())
            }
        }
    }

    /// Finds a user by login name.
    pub async fn user_by_name(
        &self,
        username: &str,
        fault: QueryFault,
    ) -> Result<Option<User>, DbError> {
        let operation = DatabaseOperation::start("USER_LOOKUP", "USER", DbAction::Read)
            .field("username", username);
        if let Err(error) = fault.apply().await {
            operation.fail(&error);
            return Err(DbError::Injected(error));
        }
        let result = sqlx::query("SELECT * FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await;
        finish_read(operation, result)
    }

    /// Finds a user by id.
    pub async fn user_by_id(&self, id: i64, fault: QueryFault) -> Result<Option<User>, DbError> {
        let operation = DatabaseOperation::start("USER_READ", "USER", DbAction::Read)
            .field("user_id", id.to_string());
        if let Err(error) = fault.apply().await {
            operation.fail(&error);
            return Err(DbError::Injected(error));
        }
        let result = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await;
        finish_read(operation, result)
    }

    /// Updates a profile's email, full name and bio; returns whether the user exists.
    pub async fn update_profile(
        &self,
        id: i64,
        email: &str,
        full_name: &str,
        bio: &str,
        fault: QueryFault,
    ) -> Result<bool, DbError> {
        let operation = DatabaseOperation::start("USER_UPDATE", "USER", DbAction::Update)
            .field("user_id", id.to_string());
        if let Err(error) = fault.apply().await {
            operation.fail(&error);
            return Err(DbError::Injected(error));
        }
        let result =
            sqlx::query("UPDATE users SET email = $1, full_name = $2, bio = $3 WHERE id = $4")
                .bind(email)
                .bind(full_name)
                .bind(bio)
                .bind(id)
                .execute(&self.pool)
                .await;
        finish_write(operation, result)
    }

    /// Deletes a user and their sessions; returns whether the user existed.
    pub async fn delete_user(&self, id: i64, fault: QueryFault) -> Result<bool, DbError> {
        let operation = DatabaseOperation::start("USER_DELETE", "USER", DbAction::Delete)
            .field("user_id", id.to_string());
        if let Err(error) = fault.apply().await {
            operation.fail(&error);
            return Err(DbError::Injected(error));
        }
        let result = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await;
        let existed = finish_write(operation, result)?;
        let sessions = DatabaseOperation::start("SESSION_DELETE_ALL", "SESSION", DbAction::Delete)
            .field("user_id", id.to_string());
        let result = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&self.pool)
            .await;
        finish_write(sessions, result)?;
        Ok(existed)
    }

    /// Stores a new session.
    pub async fn create_session(&self, session: &Session) -> Result<(), DbError> {
        let operation = DatabaseOperation::start("SESSION_CREATE", "SESSION", DbAction::Create)
            .field("user_id", session.user_id.to_string());
        let result = sqlx::query(
            "INSERT INTO sessions (token, session_id, user_id, created_at_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(&session.token)
        .bind(&session.session_id)
        .bind(session.user_id)
        .bind(session.created_at_ms)
        .execute(&self.pool)
        .await;
        finish_write(operation, result).map(|_| ())
    }

    /// The session a bearer token names.
    pub async fn session(&self, token: &str) -> Result<Option<Session>, DbError> {
        let operation = DatabaseOperation::start("SESSION_READ", "SESSION", DbAction::Read);
        let result = sqlx::query(
            "SELECT token, session_id, user_id, created_at_ms FROM sessions WHERE token = $1",
        )
        .bind(token)
        .fetch_optional(&self.pool)
        .await;
        match result {
            Ok(row) => {
                operation.finish(u64::from(row.is_some()));
                let Some(row) = row else { return Ok(None) };
                Ok(Some(Session {
                    token: row.try_get("token")?,
                    session_id: row.try_get("session_id")?,
                    user_id: row.try_get("user_id")?,
                    created_at_ms: row.try_get("created_at_ms")?,
                }))
            }
            Err(error) => {
                operation.fail(&error);
                Err(error.into())
            }
        }
    }

    /// Ends a session; returns whether it existed.
    pub async fn delete_session(&self, token: &str) -> Result<bool, DbError> {
        let operation = DatabaseOperation::start("SESSION_DELETE", "SESSION", DbAction::Delete);
        let result = sqlx::query("DELETE FROM sessions WHERE token = $1")
            .bind(token)
            .execute(&self.pool)
            .await;
        finish_write(operation, result)
    }
}

fn finish_read(
    operation: DatabaseOperation,
    result: Result<Option<sqlx::any::AnyRow>, sqlx::Error>,
) -> Result<Option<User>, DbError> {
    match result {
        Ok(row) => {
            operation.finish(u64::from(row.is_some()));
            row.map(|row| user_from_row(&row))
                .transpose()
                .map_err(DbError::from)
        }
        Err(error) => {
            operation.fail(&error);
            Err(error.into())
        }
    }
}

fn finish_write(
    operation: DatabaseOperation,
    result: Result<sqlx::any::AnyQueryResult, sqlx::Error>,
) -> Result<bool, DbError> {
    match result {
        Ok(done) => {
            operation.finish(done.rows_affected());
            Ok(done.rows_affected() > 0)
        }
        Err(error) => {
            operation.fail(&error);
            Err(error.into())
        }
    }
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        full_name: row.try_get("full_name")?,
        bio: row.try_get("bio")?,
        created_at: row.try_get("created_at")?,
        password_hash: row.try_get("password_hash")?,
    })
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|database| database.is_unique_violation())
}

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}
