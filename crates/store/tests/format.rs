//! A data directory written in another on-disk format is refused with a clear error, and the
//! store's id salt survives a restart.

use logfleet_store::{Store, StoreConfig, StoreError};
use serde_json::{Value, json};

#[tokio::test]
async fn refuses_an_older_format_and_keeps_its_id_salt() {
    let directory = tempfile::tempdir().unwrap();
    let state_path = directory.path().join("state.json");
    {
        let store = Store::open(StoreConfig::new(directory.path())).unwrap();
        store.create_index("plain", &json!({}), None).unwrap();
        store.shutdown().await.unwrap();
    }
    let state: Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    assert_eq!(state["format"], 2);
    let salt = state["id_salt"].as_str().unwrap().to_owned();
    assert_eq!(salt.len(), 14);
    {
        let store = Store::open(StoreConfig::new(directory.path())).unwrap();
        store.shutdown().await.unwrap();
    }
    let state: Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    assert_eq!(
        state["id_salt"],
        salt.as_str(),
        "the salt is drawn once per store"
    );

    // What an earlier version wrote: no format, no salt.
    std::fs::write(&state_path, br#"{"last_seq": 3}"#).unwrap();
    let error = Store::open(StoreConfig::new(directory.path())).unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::IncompatibleFormat {
                found: 1,
                expected: 2,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("new data directory"), "{error}");
}
