//! `access_postgresql`, the seed's data manager (`service_type: data_manager`): the only
//! service with database access. Signup, login and logout with sessions, and profile read,
//! update and delete behind bearer-token authorization; every data change and every
//! authentication decision is an audit event.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::audit;
use crate::db::{Database, DbError, Session, User};
use crate::faults::{Faults, QueryFault};

/// Failed logins from one address within [`FAILURE_WINDOW`] before it is refused.
const MAX_FAILURES: usize = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// Shared state of the data manager.
#[derive(Debug, Clone)]
pub struct DataManager {
    database: Database,
    faults: Faults,
    failures: Arc<Mutex<HashMap<IpAddr, Vec<Instant>>>>,
}

impl DataManager {
    /// A data manager over `database`.
    pub fn new(database: Database, faults: Faults) -> DataManager {
        DataManager {
            database,
            faults,
            failures: Arc::default(),
        }
    }

    /// The routes, each named by its `action_type`.
    pub fn router(self) -> Router {
        Router::new()
            .route(
                "/api/health/",
                get(health.layer(logfleet_sdk::action_type("HEALTH_CHECK"))),
            )
            .route(
                "/api/signup/",
                post(signup.layer(logfleet_sdk::action_type("USER_SIGNUP"))),
            )
            .route(
                "/api/login/",
                post(login.layer(logfleet_sdk::action_type("USER_LOGIN"))),
            )
            .route(
                "/api/logout/",
                post(logout.layer(logfleet_sdk::action_type("USER_LOGOUT"))),
            )
            .route(
                "/api/profile/{user_id}/",
                get(read_profile.layer(logfleet_sdk::action_type("PROFILE_READ")))
                    .put(update_profile.layer(logfleet_sdk::action_type("PROFILE_UPDATE")))
                    .delete(delete_profile.layer(logfleet_sdk::action_type("PROFILE_DELETE"))),
            )
            .with_state(self)
    }

    /// Whether `client` failed to log in too often lately; prunes old failures.
    fn is_blocked(&self, client: Option<IpAddr>) -> bool {
        let Some(client) = client else { return false };
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let recent = failures.entry(client).or_default();
        recent.retain(|at| at.elapsed() < FAILURE_WINDOW);
        recent.len() >= MAX_FAILURES
    }

    fn record_failure(&self, client: Option<IpAddr>) {
        let Some(client) = client else { return };
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.entry(client).or_default().push(Instant::now());
    }
}

/// An error response in the demo's JSON shape, with what the SDK records about it.
struct ApiError {
    status: StatusCode,
    error_type: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, error_type: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error_type,
            message: message.into(),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> ApiError {
        match error {
            DbError::Conflict => {
                ApiError::new(StatusCode::CONFLICT, "Conflict", "username already exists")
            }
            DbError::Sql(_) | DbError::Injected(_) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "DatabaseError",
                "database unavailable",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({"error": self.error_type, "message": self.message}));
        let mut response = (self.status, body).into_response();
        response
            .extensions_mut()
            .insert(logfleet_sdk::ErrorInfo::new(self.error_type, self.message));
        response
    }
}

type ApiResult<T> = Result<T, ApiError>;

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

#[derive(Debug, Deserialize)]
struct SignupRequest {
    username: String,
    email: String,
    password: String,
}

async fn signup(
    State(manager): State<DataManager>,
    headers: HeaderMap,
    Json(request): Json<SignupRequest>,
) -> ApiResult<Response> {
    manager.faults.check(&headers)?;
    crate::validate::signup(&request.username, &request.email, &request.password)
        .map_err(|reason| ApiError::new(StatusCode::BAD_REQUEST, "ValidationError", reason))?;
    let password_hash = hash_password(&request.password)?;
    let id = manager
        .database
        .create_user(
            &request.username,
            &request.email,
            &password_hash,
            manager.faults.query(&headers),
        )
        .await?;
    logfleet_sdk::set_user(id.to_string(), &request.username);
    audit::user_created(id, &request.username);
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "username": request.username})),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

async fn login(
    State(manager): State<DataManager>,
    headers: HeaderMap,
    Json(request): Json<LoginRequest>,
) -> ApiResult<Response> {
    manager.faults.check(&headers)?;
    let client = logfleet_sdk::client_ip();
    if manager.is_blocked(client) {
        audit::login_failed(&request.username, "too_many_attempts");
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyAttempts",
            "too many failed logins from this address; try again later",
        ));
    }
    let user = manager
        .database
        .user_by_name(&request.username, manager.faults.query(&headers))
        .await?;
    let Some(user) = user else {
        manager.record_failure(client);
        audit::login_failed(&request.username, "unknown_user");
        return Err(invalid_credentials());
    };
    if !verify_password(&request.password, &user.password_hash) {
        manager.record_failure(client);
        audit::login_failed(&request.username, "invalid_password");
        return Err(invalid_credentials());
    }
    let session = Session {
        token: new_token(),
        session_id: new_session_id(),
        user_id: user.id,
        created_at_ms: now_millis(),
    };
    manager.database.create_session(&session).await?;
    logfleet_sdk::set_user(user.id.to_string(), &user.username);
    audit::login_succeeded(&user, &session.session_id);
    Ok(Json(json!({"token": session.token, "user_id": user.id})).into_response())
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "InvalidCredentials",
        "invalid username or password",
    )
}

async fn logout(State(manager): State<DataManager>, headers: HeaderMap) -> ApiResult<Response> {
    manager.faults.check(&headers)?;
    let (session, user) = authenticate(&manager, &headers).await?;
    manager.database.delete_session(&session.token).await?;
    let session_duration_ms = (now_millis() - session.created_at_ms).max(0);
    let duration = Duration::from_millis(session_duration_ms.unsigned_abs());
    audit::logged_out(&user, &session.session_id, duration);
    Ok(Json(json!({"session_duration_ms": session_duration_ms})).into_response())
}

/// The session and user of the request's bearer token, or 401.
async fn authenticate(manager: &DataManager, headers: &HeaderMap) -> ApiResult<(Session, User)> {
    let token = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Unauthenticated",
                "a bearer token is required",
            )
        })?;
    let expired = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Unauthenticated",
            "session expired",
        )
    };
    let session = manager.database.session(token).await?.ok_or_else(expired)?;
    let user = manager
        .database
        .user_by_id(session.user_id, QueryFault::default())
        .await?
        .ok_or_else(expired)?;
    logfleet_sdk::set_user(user.id.to_string(), &user.username);
    Ok((session, user))
}

/// Authenticates and checks that the caller owns profile `user_id`.
async fn authorize(
    manager: &DataManager,
    headers: &HeaderMap,
    user_id: i64,
    action: &str,
) -> ApiResult<User> {
    let (_, user) = authenticate(manager, headers).await?;
    if user.id != user_id {
        audit::access_denied(&user, user_id, action);
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "you may only access your own profile",
        ));
    }
    Ok(user)
}

async fn read_profile(
    State(manager): State<DataManager>,
    headers: HeaderMap,
    Path(user_id): Path<i64>,
) -> ApiResult<Response> {
    manager.faults.check(&headers)?;
    authorize(&manager, &headers, user_id, "PROFILE_READ").await?;
    let user = manager
        .database
        .user_by_id(user_id, manager.faults.query(&headers))
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "NotFound", "no such user"))?;
    Ok(Json(user).into_response())
}

#[derive(Debug, Deserialize)]
struct ProfileUpdate {
    email: Option<String>,
    full_name: Option<String>,
    bio: Option<String>,
}

async fn update_profile(
    State(manager): State<DataManager>,
    headers: HeaderMap,
    Path(user_id): Path<i64>,
    Json(update): Json<ProfileUpdate>,
) -> ApiResult<Response> {
    manager.faults.check(&headers)?;
    let user = authorize(&manager, &headers, user_id, "PROFILE_UPDATE").await?;
    let email = update.email.unwrap_or(user.email.clone());
    crate::validate::email(&email)
        .map_err(|reason| ApiError::new(StatusCode::BAD_REQUEST, "ValidationError", reason))?;
    let full_name = update.full_name.unwrap_or(user.full_name.clone());
    let bio = update.bio.unwrap_or(user.bio.clone());
    manager
        .database
        .update_profile(
            user_id,
            &email,
            &full_name,
            &bio,
            manager.faults.query(&headers),
        )
        .await?;
    audit::profile_updated(&user);
    Ok(
        Json(json!({"id": user_id, "email": email, "full_name": full_name, "bio": bio}))
            .into_response(),
    )
}

async fn delete_profile(
    State(manager): State<DataManager>,
    headers: HeaderMap,
    Path(user_id): Path<i64>,
) -> ApiResult<Response> {
    manager.faults.check(&headers)?;
    let user = authorize(&manager, &headers, user_id, "PROFILE_DELETE").await?;
    manager
        .database
        .delete_user(user_id, manager.faults.query(&headers))
        .await?;
    audit::user_deleted(&user);
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn hash_password(password: &str) -> ApiResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "HashingError",
                "could not hash the password",
            )
        })
}

fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// A 256-bit session token from the operating system's generator: the bearer secret.
fn new_token() -> String {
    random_hex::<32>()
}

/// The session's public name in logs, unrelated to its token.
fn new_session_id() -> String {
    random_hex::<8>()
}

fn random_hex<const BYTES: usize>() -> String {
    let mut bytes = [0u8; BYTES];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn now_millis() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

impl From<crate::faults::InjectedFault> for ApiError {
    fn from(fault: crate::faults::InjectedFault) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InjectedFault",
            fault.to_string(),
        )
    }
}
