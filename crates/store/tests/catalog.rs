//! The catalog against `Store` directly: aliases, rollover, index, component and legacy
//! templates, and lifecycle policies. `crates/api/tests/aliases.rs` drives the same over
//! HTTP; these tests pin down what the store itself promises, including what survives a
//! restart.

use std::path::Path;

use logfleet_store::faults::{Fault, FaultSite, Faults};
use logfleet_store::{AliasAction, AliasProperties, FloodStage, Store, StoreConfig, StoreError};
use serde_json::{Value, json};

fn config(directory: &Path) -> StoreConfig {
    let mut config = StoreConfig::new(directory);
    // Nothing here depends on a refresh, and none should run behind a test's back.
    config.refresh_interval = None;
    config.flood_stage = FloodStage::disabled();
    config
}

fn open(directory: &Path) -> Store {
    Store::open(config(directory)).unwrap()
}

async fn reopen(store: Store, directory: &Path) -> Store {
    store.shutdown().await.unwrap();
    drop(store);
    open(directory)
}

fn add(indices: &[&str], alias: &str, properties: AliasProperties) -> AliasAction {
    AliasAction::Add {
        indices: indices.iter().map(|index| (*index).to_owned()).collect(),
        aliases: vec![alias.to_owned()],
        properties,
    }
}

fn write_index() -> AliasProperties {
    AliasProperties {
        is_write_index: Some(true),
        ..AliasProperties::default()
    }
}

/// The members of `alias`, by name.
fn members(store: &Store, alias: &str) -> Vec<String> {
    store
        .aliases()
        .members(alias)
        .map(|members| members.keys().cloned().collect())
        .unwrap_or_default()
}

fn write_member(store: &Store, alias: &str) -> Option<String> {
    store
        .aliases()
        .write_member(alias)
        .unwrap()
        .map(str::to_owned)
}

fn is_illegal_argument(result: Result<impl std::fmt::Debug, StoreError>, mentions: &str) {
    match result {
        Err(StoreError::IllegalArgument(message)) => {
            assert!(message.contains(mentions), "{message}");
        }
        other => panic!("expected an illegal argument naming {mentions}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alias_actions_apply_together_and_survive_a_restart() {
    let directory = tempfile::tempdir().unwrap();
    let store = open(directory.path());
    store.create_index("web-1", &json!({}), None).unwrap();
    store.create_index("web-2", &json!({}), None).unwrap();

    let results = store
        .update_aliases(&[
            add(&["web-1"], "web", AliasProperties::default()),
            add(&["web-2"], "web", write_index()),
        ])
        .await
        .unwrap();
    assert!(
        results.iter().all(|(_, result)| result.is_ok()),
        "{results:?}"
    );
    assert!(store.is_alias("web"));
    assert_eq!(members(&store, "web"), ["web-1", "web-2"]);
    assert_eq!(write_member(&store, "web").as_deref(), Some("web-2"));
    let searched: Vec<String> = store
        .resolve_targets("web", false)
        .unwrap()
        .into_iter()
        .map(|target| target.name)
        .collect();
    assert_eq!(searched, ["web-1", "web-2"]);

    let store = reopen(store, directory.path()).await;
    assert_eq!(members(&store, "web"), ["web-1", "web-2"]);
    assert_eq!(write_member(&store, "web").as_deref(), Some("web-2"));

    store
        .update_aliases(&[AliasAction::Remove {
            indices: vec!["web-1".to_owned()],
            aliases: vec!["web".to_owned()],
            must_exist: None,
        }])
        .await
        .unwrap();
    assert_eq!(members(&store, "web"), ["web-2"]);
    // Deleting the last member deletes the alias with it.
    store.delete_target("web-2").await.unwrap();
    assert!(!store.is_alias("web"));
    let store = reopen(store, directory.path()).await;
    assert!(!store.is_alias("web"));
    assert!(store.is_plain_index("web-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alias_may_not_take_the_name_of_an_index() {
    let directory = tempfile::tempdir().unwrap();
    let store = open(directory.path());
    store.create_index("one", &json!({}), None).unwrap();
    store.create_index("two", &json!({}), None).unwrap();
    let results = store
        .update_aliases(&[add(&["one"], "two", AliasProperties::default())])
        .await;
    let failed = match results {
        Err(error) => Some(error),
        Ok(results) => results.into_iter().find_map(|(_, result)| result.err()),
    };
    assert!(
        failed.is_some(),
        "an alias named after an index was accepted"
    );
    assert!(!store.is_alias("two"));
    assert!(store.aliases().of_target("one").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollover_moves_the_write_alias_to_the_next_index_of_the_series() {
    let directory = tempfile::tempdir().unwrap();
    let store = open(directory.path());
    store
        .create_index(
            "app-000001",
            &json!({"aliases": {"app": {"is_write_index": true}}}),
            None,
        )
        .unwrap();

    // Conditions not met: nothing changes, but the outcome names what would be created.
    let waiting = store
        .rollover(
            "app",
            None,
            &json!({"conditions": {"max_docs": 1000}}),
            false,
        )
        .unwrap();
    assert!(!waiting.rolled_over);
    assert_eq!(
        (waiting.old_index.as_str(), waiting.new_index.as_str()),
        ("app-000001", "app-000002")
    );
    assert_eq!(waiting.conditions["[max_docs: 1000]"], json!(false));
    let dry_run = store.rollover("app", None, &json!({}), true).unwrap();
    assert!(!dry_run.rolled_over);
    assert!(!store.is_plain_index("app-000002"));

    let rolled = store.rollover("app", None, &json!({}), false).unwrap();
    assert!(rolled.rolled_over);
    assert_eq!(rolled.new_index, "app-000002");
    assert!(store.is_plain_index("app-000002"));
    assert_eq!(members(&store, "app"), ["app-000001", "app-000002"]);
    assert_eq!(write_member(&store, "app").as_deref(), Some("app-000002"));

    let store = reopen(store, directory.path()).await;
    assert_eq!(write_member(&store, "app").as_deref(), Some("app-000002"));
    let named = store
        .rollover("app", Some("app-special"), &json!({}), false)
        .unwrap();
    assert_eq!(
        (named.old_index.as_str(), named.new_index.as_str()),
        ("app-000002", "app-special")
    );
    assert_eq!(write_member(&store, "app").as_deref(), Some("app-special"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollover_refuses_what_it_cannot_roll() {
    let directory = tempfile::tempdir().unwrap();
    let store = open(directory.path());
    store.create_index("plain", &json!({}), None).unwrap();
    store.create_data_stream("logs-app-default").unwrap();
    is_illegal_argument(
        store.rollover("plain", None, &json!({}), false),
        "concrete index",
    );
    is_illegal_argument(
        store.rollover("logs-app-default", None, &json!({}), false),
        "data stream",
    );
    is_illegal_argument(
        store.rollover("missing", None, &json!({}), false),
        "does not exist",
    );
    is_illegal_argument(
        store.rollover("plain", None, &json!({"condition": {}}), false),
        "unknown field [condition]",
    );
}

fn field_type(store: &Store, index: &str, field: &str) -> Option<Value> {
    let target = store.resolve_targets(index, false).unwrap().remove(0);
    let mapping = target.mapping.to_es_json();
    let mut properties = &mapping["properties"];
    let mut path = field.split('.').peekable();
    while let Some(part) = path.next() {
        let property = properties.get(part)?;
        if path.peek().is_none() {
            return property.get("type").cloned();
        }
        properties = &property["properties"];
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_templates_compose_components_and_survive_a_restart() {
    let directory = tempfile::tempdir().unwrap();
    let store = open(directory.path());
    store
        .put_component_template(
            "ports",
            &json!({"template": {"mappings": {"properties": {"port": {"type": "integer"}}}}}),
            false,
        )
        .unwrap();
    is_illegal_argument(
        store.put_component_template("ports", &json!({"template": {}}), true),
        "already exists",
    );
    store
        .put_template(
            "services",
            &json!({
                "index_patterns": ["svc-*"],
                "priority": 10,
                "composed_of": ["ports"],
                "template": {
                    "mappings": {"properties": {"host": {"type": "keyword"}}},
                    "aliases": {"services": {}},
                },
            }),
        )
        .unwrap();
    // An index template may not name a component that does not exist.
    assert!(
        store
            .put_template(
                "broken",
                &json!({"index_patterns": ["broken-*"], "composed_of": ["missing"]}),
            )
            .is_err()
    );
    assert!(store.templates("broken").is_empty());

    let store = reopen(store, directory.path()).await;
    let (chosen, overlapping) = store.simulate_template("svc-a");
    assert_eq!(
        chosen.map(|template| template.name).as_deref(),
        Some("services")
    );
    assert!(overlapping.is_empty());
    store.create_index("svc-a", &json!({}), None).unwrap();
    assert_eq!(field_type(&store, "svc-a", "port"), Some(json!("integer")));
    assert_eq!(field_type(&store, "svc-a", "host"), Some(json!("keyword")));
    assert_eq!(members(&store, "services"), ["svc-a"]);

    is_illegal_argument(store.delete_component_template("ports"), "still in use");
    assert!(store.delete_template("services").unwrap());
    assert!(!store.delete_template("services").unwrap());
    assert!(store.delete_component_template("ports").unwrap());
    let store = reopen(store, directory.path()).await;
    assert!(store.templates("*").is_empty());
    assert!(store.component_templates("*").is_empty());
    assert_eq!(store.simulate_template("svc-b").0, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_templates_merge_by_order_and_yield_to_composable_ones() {
    let directory = tempfile::tempdir().unwrap();
    let store = open(directory.path());
    store
        .put_legacy_template(
            "base",
            &json!({"index_patterns": ["old-*"], "order": 0,
                    "mappings": {"properties": {"code": {"type": "keyword"}}}}),
            true,
        )
        .unwrap();
    store
        .put_legacy_template(
            "override",
            &json!({"index_patterns": ["old-*"], "order": 1,
                    "mappings": {"properties": {"code": {"type": "long"}}}}),
            true,
        )
        .unwrap();
    is_illegal_argument(
        store.put_legacy_template("base", &json!({"index_patterns": ["x-*"]}), true),
        "already exists",
    );
    let names: Vec<String> = store
        .legacy_templates("*")
        .into_iter()
        .map(|template| template.name)
        .collect();
    assert_eq!(names, ["base", "override"]);

    let store = reopen(store, directory.path()).await;
    store.create_index("old-1", &json!({}), None).unwrap();
    // The higher order wins.
    assert_eq!(field_type(&store, "old-1", "code"), Some(json!("long")));

    // A composable template that matches outranks every legacy one.
    store
        .put_template(
            "new",
            &json!({"index_patterns": ["old-*"],
                    "template": {"mappings": {"properties": {"code": {"type": "ip"}}}}}),
        )
        .unwrap();
    store.create_index("old-2", &json!({}), None).unwrap();
    assert_eq!(field_type(&store, "old-2", "code"), Some(json!("ip")));

    assert!(store.delete_legacy_template("base").unwrap());
    assert!(!store.delete_legacy_template("base").unwrap());
    let store = reopen(store, directory.path()).await;
    let names: Vec<String> = store
        .legacy_templates("*")
        .into_iter()
        .map(|template| template.name)
        .collect();
    assert_eq!(names, ["override"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_policies_are_versioned_and_kept_while_in_use() {
    let directory = tempfile::tempdir().unwrap();
    let store = open(directory.path());
    let policy =
        json!({"policy": {"phases": {"delete": {"min_age": "1d", "actions": {"delete": {}}}}}});
    store.put_lifecycle_policy("short", &policy).unwrap();
    store.put_lifecycle_policy("short", &policy).unwrap();
    let stored = store.lifecycle_policies("short");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].version, 2);

    store
        .create_index(
            "managed",
            &json!({"settings": {"index.lifecycle.name": "short"}}),
            None,
        )
        .unwrap();
    assert_eq!(store.lifecycle_policy_usage("short").indices, ["managed"]);
    assert!(store.delete_lifecycle_policy("short").is_err());
    assert_eq!(store.lifecycle_policies("*").len(), 1);

    let store = reopen(store, directory.path()).await;
    assert_eq!(store.lifecycle_policies("short")[0].version, 2);
    let explained = store.index_lifecycles("managed", false).unwrap();
    let managed = explained[0].managed.as_ref().unwrap();
    assert_eq!(managed.policy_name, "short");
    assert!(managed.policy.is_some());

    store.delete_target("managed").await.unwrap();
    assert!(store.delete_lifecycle_policy("short").unwrap());
    assert!(!store.delete_lifecycle_policy("short").unwrap());
    let store = reopen(store, directory.path()).await;
    assert!(store.lifecycle_policies("*").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lifecycle_policy_rolls_its_alias_over_and_deletes_the_retired_index() {
    let directory = tempfile::tempdir().unwrap();
    let store = open(directory.path());
    store
        .put_lifecycle_policy(
            "roll",
            &json!({"policy": {"phases": {
                "hot": {"actions": {"rollover": {"max_docs": 1}}},
                "delete": {"min_age": "0ms", "actions": {"delete": {}}},
            }}}),
        )
        .unwrap();
    store
        .put_template(
            "rolled",
            &json!({"index_patterns": ["rolled-*"], "template": {"settings": {
                "index.lifecycle.name": "roll",
                "index.lifecycle.rollover_alias": "rolled",
            }}}),
        )
        .unwrap();
    store
        .create_index(
            "rolled-000001",
            &json!({"aliases": {"rolled": {"is_write_index": true}}}),
            None,
        )
        .unwrap();
    let now = logfleet_store::now_millis();
    // An empty write index does not meet `max_docs: 1`.
    assert!(store.run_index_lifecycles(now).await.unwrap().is_empty());
    assert!(
        store
            .rollover("rolled", None, &json!({}), false)
            .unwrap()
            .rolled_over
    );
    assert_eq!(
        write_member(&store, "rolled").as_deref(),
        Some("rolled-000002")
    );

    // The retired index's delete phase counts from its rollover: due at once.
    let deleted = store.run_index_lifecycles(now + 60_000).await.unwrap();
    assert_eq!(deleted, ["rolled-000001"]);
    assert!(!store.is_plain_index("rolled-000001"));
    assert_eq!(members(&store, "rolled"), ["rolled-000002"]);
}

/// `put_template` and `delete_template` changed the templates in memory before writing
/// them: a write that failed (a full disk) left the store creating targets from a template
/// that a restart would not know, and forgetting one that a restart would bring back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_template_that_cannot_be_persisted_changes_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let mut config = config(directory.path());
    config.faults = Some(faults.clone());
    let store = Store::open(config).unwrap();
    store
        .put_template("kept", &json!({"index_patterns": ["kept-*"]}))
        .unwrap();

    faults.inject(FaultSite::Metadata, Fault::NoSpace);
    assert!(
        store
            .put_template("lost", &json!({"index_patterns": ["lost-*"]}))
            .is_err()
    );
    assert!(store.delete_template("kept").is_err());
    faults.clear_all();

    let names: Vec<String> = store
        .templates("*")
        .into_iter()
        .map(|template| template.name)
        .collect();
    assert_eq!(names, ["kept"]);
    assert_eq!(store.simulate_template("lost-1").0, None);
}
