//! The data manager's database layer on both engines it supports: SQLite always, and
//! PostgreSQL when `LOGFLEET_TEST_POSTGRES_URL` names one (CI provisions a local server).

use logfleet_demo::faults::QueryFault;
use logfleet_demo::{Database, DbError, Session};

async fn exercise(url: &str) {
    let database = Database::connect(url).await.expect("connect");
    // Names unique per run, so a reused PostgreSQL database does not collide.
    let username = format!("alice.{}", std::process::id());
    let id = database
        .create_user(
            &username,
            "alice@example.com",
            "$argon2id$v=19$fake",
            QueryFault::default(),
        )
        .await
        .expect("create");
    assert!(matches!(
        database
            .create_user(
                &username,
                "other@example.com",
                "hash",
                QueryFault::default()
            )
            .await,
        Err(DbError::Conflict)
    ));

    let by_name = database
        .user_by_name(&username, QueryFault::default())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (by_name.id, by_name.email.as_str()),
        (id, "alice@example.com")
    );
    assert!(
        database
            .user_by_name("nobody", QueryFault::default())
            .await
            .unwrap()
            .is_none()
    );

    assert!(
        database
            .update_profile(
                id,
                "new@example.com",
                "Alice",
                "hiking",
                QueryFault::default()
            )
            .await
            .unwrap()
    );
    let updated = database
        .user_by_id(id, QueryFault::default())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            updated.email.as_str(),
            updated.full_name.as_str(),
            updated.bio.as_str()
        ),
        ("new@example.com", "Alice", "hiking")
    );

    let session = Session {
        token: format!("token-{}", std::process::id()),
        session_id: "s1".into(),
        user_id: id,
        created_at_ms: 1_700_000_000_000,
    };
    database.create_session(&session).await.unwrap();
    let found = database.session(&session.token).await.unwrap().unwrap();
    assert_eq!(
        (found.user_id, found.created_at_ms),
        (id, 1_700_000_000_000)
    );
    assert!(database.delete_session(&session.token).await.unwrap());
    assert!(database.session(&session.token).await.unwrap().is_none());

    database.create_session(&session).await.unwrap();
    assert!(
        database
            .delete_user(id, QueryFault::default())
            .await
            .unwrap()
    );
    assert!(
        database
            .user_by_id(id, QueryFault::default())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        database.session(&session.token).await.unwrap().is_none(),
        "a deleted user's sessions go with it"
    );
}

#[tokio::test]
async fn sqlite() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        directory.path().join("demo.db").display()
    );
    exercise(&url).await;
}

#[tokio::test]
async fn postgresql() {
    let Ok(url) = std::env::var("LOGFLEET_TEST_POSTGRES_URL") else {
        // Reported, so a run without PostgreSQL is visible as such.
        #[expect(clippy::print_stderr, reason = "say why the test did nothing")]
        {
            eprintln!("LOGFLEET_TEST_POSTGRES_URL is not set: PostgreSQL not exercised");
        }
        return;
    };
    exercise(&url).await;
}

#[tokio::test]
async fn an_injected_database_fault_fails_the_query_with_the_driver_error() {
    let database = Database::connect("sqlite::memory:").await.expect("connect");
    let fault = QueryFault {
        slow: None,
        error: Some("pool timed out while waiting for an open connection"),
    };
    let error = database.user_by_name("anyone", fault).await.unwrap_err();
    assert!(matches!(error, DbError::Injected(_)), "{error}");
    assert_eq!(
        error.to_string(),
        "pool timed out while waiting for an open connection"
    );
}
