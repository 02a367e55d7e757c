//! What Filebeat and Logstash do when they connect, over real HTTP: check the license and
//! the features, install a lifecycle policy and an index template written for Elasticsearch
//! (aliases, flattened and unindexed types), then ship into the data stream it creates.

mod common;

use common::Server;
use serde_json::json;

/// The parts of Filebeat 8's generated template that exercise every kind of field it uses.
fn filebeat_template() -> serde_json::Value {
    json!({
        "index_patterns": ["filebeat-8.17.0"],
        "data_stream": {},
        "priority": 150,
        "template": {
            "settings": {"index": {
                "lifecycle": {"name": "filebeat"},
                "mapping": {"total_fields": {"limit": 10000}},
                "refresh_interval": "5s",
                "query": {"default_field": ["message", "tags"]}
            }},
            "mappings": {
                "_meta": {"beat": "filebeat", "version": "8.17.0"},
                "date_detection": false,
                "dynamic_templates": [{"strings_as_keyword": {
                    "match_mapping_type": "string",
                    "mapping": {"ignore_above": 1024, "type": "keyword"}
                }}],
                "properties": {
                    "@timestamp": {"type": "date"},
                    "message": {"type": "match_only_text"},
                    "nginx": {"properties": {"access": {"properties": {
                        "remote_ip_list": {"type": "alias", "path": "source.address"}
                    }}}},
                    "source": {"properties": {
                        "address": {"type": "keyword", "ignore_above": 1024},
                        "geo": {"properties": {"location": {"type": "geo_point"}}}
                    }},
                    "labels": {"type": "flattened"},
                    "event": {"properties": {
                        "original": {"type": "keyword", "index": false, "doc_values": false},
                        "duration": {"type": "long"}
                    }},
                    "url": {"properties": {"original": {
                        "type": "wildcard", "fields": {"text": {"type": "match_only_text"}}
                    }}},
                    "host": {"properties": {"cpu": {"properties": {
                        "usage": {"type": "scaled_float", "scaling_factor": 1000}
                    }}}},
                    "threat": {"properties": {"enrichments": {"type": "nested"}}},
                    "file": {"properties": {"elf": {"properties": {"header": {"properties": {
                        "data": {"type": "binary"}
                    }}}}}},
                    "process": {"properties": {"io": {"properties": {
                        "bytes_skipped": {"type": "object"}
                    }}}}
                }
            }
        }
    })
}

#[test]
fn filebeat_setup_and_shipping() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().join("data");
    let config = temporary.path().join("logfleet.toml");
    std::fs::write(&config, "[retention]\ncheck_interval = \"200ms\"\n").unwrap();
    let server = Server::start_in(&data_dir, &["--config", config.to_str().unwrap()]);

    // The license check every Elastic shipper makes before sending anything.
    let (status, license) = server.get("/_license?human=false");
    assert_eq!(status, 200, "{license}");
    assert_eq!(license["license"]["status"], "active");
    assert_eq!(license["license"]["type"], "basic");
    assert!(license["license"]["uid"].is_string());
    let (_, xpack) = server.get("/_xpack");
    assert_eq!(
        xpack["features"]["ilm"],
        json!({"available": true, "enabled": true})
    );
    assert_eq!(xpack["features"]["ml"]["available"], false);
    assert_eq!(xpack["license"]["status"], "active");
    let (_, only_license) = server.get("/_xpack?categories=license");
    assert!(only_license.get("features").is_none(), "{only_license}");
    let (status, _) = server.get("/_xpack?categories=everything");
    assert_eq!(status, 400);

    // The lifecycle policy: absent, created, versioned.
    let (status, missing) = server.get("/_ilm/policy/filebeat");
    assert_eq!(status, 404);
    assert_eq!(missing["error"]["type"], "resource_not_found_exception");
    let policy = json!({"policy": {"phases": {
        "hot": {"actions": {"rollover": {"max_age": "30d", "max_primary_shard_size": "50gb"}}},
        "delete": {"min_age": "2d", "actions": {"delete": {}}}
    }}});
    for _ in 0..2 {
        let (status, body) = server.put("/_ilm/policy/filebeat", &policy.to_string());
        assert_eq!(status, 200, "{body}");
    }
    let (_, stored) = server.get("/_ilm/policy/filebeat");
    assert_eq!(stored["filebeat"]["version"], 2);
    assert_eq!(
        stored["filebeat"]["policy"]["phases"]["delete"]["min_age"],
        "2d"
    );
    assert_eq!(
        stored["filebeat"]["policy"]["phases"]["hot"]["min_age"],
        "0ms"
    );
    let (status, bad) = server.put(
        "/_ilm/policy/broken",
        r#"{"policy": {"phases": {"lukewarm": {}}}}"#,
    );
    assert_eq!(status, 400, "{bad}");

    // The index template, as Filebeat writes it.
    let (status, body) = server.put(
        "/_index_template/filebeat-8.17.0",
        &filebeat_template().to_string(),
    );
    assert_eq!(status, 200, "{body}");

    let now = time::OffsetDateTime::now_utc();
    let rfc3339 = |moment: time::OffsetDateTime| {
        moment
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let old = rfc3339(now - time::Duration::days(10));
    let earlier = rfc3339(now - time::Duration::hours(2));
    let recent = rfc3339(now - time::Duration::hours(1));
    let mut body = String::new();
    for (timestamp, address, app) in [(&earlier, "10.0.0.1", "api"), (&recent, "10.0.0.2", "web")] {
        body.push_str("{\"create\":{}}\n");
        body.push_str(
            &json!({
                "@timestamp": timestamp,
                "message": "GET /index.html 200",
                "source": {"address": address, "geo": {"location": {"lat": 52.5, "lon": 13.4}}},
                "labels": {"app": app, "team": {"name": "edge"}},
                "file": {"elf": {"header": {"data": "AAEC"}}},
                "host": {"cpu": {"usage": 0.25}},
                "agent": {"name": "filebeat-1"}
            })
            .to_string(),
        );
        body.push('\n');
    }
    let (status, response) = server.bulk("/filebeat-8.17.0/_bulk?refresh=true", &body);
    assert_eq!(status, 200);
    assert_eq!(response["errors"], false, "{response}");

    let (_, streams) = server.get("/_data_stream/filebeat-8.17.0");
    let stream = &streams["data_streams"][0];
    assert_eq!(stream["ilm_policy"], "filebeat", "{stream}");
    assert_eq!(
        stream["next_generation_managed_by"],
        "Index Lifecycle Management"
    );
    assert_eq!(stream["indices"][0]["ilm_policy"], "filebeat");

    // Queries through the alias and into the flattened field.
    let search = |query: serde_json::Value| {
        let (status, hits) = server.post("/filebeat-8.17.0/_search", &query.to_string());
        assert_eq!(status, 200, "{hits}");
        hits
    };
    let hits = search(json!({"query": {"term": {"nginx.access.remote_ip_list": "10.0.0.2"}}}));
    assert_eq!(hits["hits"]["total"]["value"], 1, "{hits}");
    let hits = search(json!({"query": {"term": {"labels.app": "web"}}}));
    assert_eq!(hits["hits"]["total"]["value"], 1, "{hits}");
    let hits = search(json!({"query": {"term": {"labels": "edge"}}}));
    assert_eq!(hits["hits"]["total"]["value"], 2, "{hits}");
    let hits = search(json!({"size": 0, "aggs": {"apps": {"terms": {"field": "labels.app"}}}}));
    assert_eq!(
        hits["aggregations"]["apps"]["buckets"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{hits}"
    );
    let hits = search(json!({"query": {"term": {"labels.team.name": "edge"}}, "size": 1}));
    assert_eq!(
        hits["hits"]["hits"][0]["_source"]["file"]["elf"]["header"]["data"], "AAEC",
        "unindexed values stay in _source"
    );
    let (_, mapping) = server.get("/filebeat-8.17.0/_mapping");
    let backing = mapping.as_object().unwrap().values().next().unwrap();
    let properties = &backing["mappings"]["properties"];
    assert_eq!(
        properties["nginx"]["properties"]["access"]["properties"]["remote_ip_list"],
        json!({"type": "alias", "path": "source.address"})
    );
    assert_eq!(
        properties["agent"]["properties"]["name"],
        json!({"type": "keyword", "ignore_above": 1024}),
        "the template's dynamic template maps new strings"
    );
    assert!(
        properties["labels"].get("properties").is_none(),
        "flattened keys are not mapped: {}",
        properties["labels"]
    );

    // A document writing to the alias is rejected, alone.
    let (_, response) = server.bulk(
        "/filebeat-8.17.0/_bulk",
        &format!(
            "{{\"create\":{{}}}}\n{}\n",
            json!({"@timestamp": recent, "nginx": {"access": {"remote_ip_list": "x"}}})
        ),
    );
    assert_eq!(response["errors"], true);
    assert_eq!(
        response["items"][0]["create"]["error"]["type"],
        "document_parsing_exception"
    );

    // The policy's delete phase is the stream's retention: a 10-day-old event is written,
    // and its partition dropped (the checks above ran on recent events only, so that
    // retention, which runs every 200 ms here, could not race them).
    let (_, response) = server.bulk(
        "/filebeat-8.17.0/_bulk?refresh=true",
        &format!(
            "{{\"create\":{{}}}}\n{}\n",
            json!({"@timestamp": old, "message": "ten days old"})
        ),
    );
    assert_eq!(response["errors"], false, "{response}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.count("filebeat-8.17.0") != 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the 10-day-old partition must be dropped by the policy's 2d delete phase"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    let (_, in_use) = server.get("/_ilm/policy/filebeat");
    assert_eq!(
        in_use["filebeat"]["in_use_by"]["data_streams"],
        json!(["filebeat-8.17.0"])
    );
    assert_eq!(
        in_use["filebeat"]["in_use_by"]["composable_templates"],
        json!(["filebeat-8.17.0"])
    );
    let (status, refused) = server.request("DELETE", "/_ilm/policy/filebeat", None);
    assert_eq!(status, 400, "{refused}");
    let (status, _) = server.request("DELETE", "/_data_stream/filebeat-8.17.0", None);
    assert_eq!(status, 200);
    let (status, _) = server.request("DELETE", "/_index_template/filebeat-8.17.0", None);
    assert_eq!(status, 200);
    let (status, deleted) = server.request("DELETE", "/_ilm/policy/filebeat", None);
    assert_eq!(status, 200, "{deleted}");
    let (status, _) = server.request("DELETE", "/_ilm/policy/filebeat", None);
    assert_eq!(status, 404);
}

#[test]
fn lifecycle_policies_survive_a_restart() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().join("data");
    let policy =
        r#"{"policy": {"phases": {"delete": {"min_age": "30d", "actions": {"delete": {}}}}}}"#;
    {
        let mut server = Server::start_in(&data_dir, &[]);
        let (status, _) = server.put("/_ilm/policy/logs-30d", policy);
        assert_eq!(status, 200);
        server.stop();
    }
    let server = Server::start_in(&data_dir, &[]);
    let (status, all) = server.get("/_ilm/policy");
    assert_eq!(status, 200);
    assert_eq!(
        all["logs-30d"]["policy"]["phases"]["delete"]["min_age"], "30d",
        "{all}"
    );
    let (_, status_body) = server.get("/_ilm/status");
    assert_eq!(status_body["operation_mode"], "RUNNING");
}

/// `action.auto_create_index`, as shippers' guides have users set it: persistent settings
/// keep applying after a restart, transient ones do not.
#[test]
fn auto_create_index_survives_a_restart_when_persistent() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().join("data");
    {
        let mut server = Server::start_in(&data_dir, &[]);
        let (status, body) = server.put(
            "/_cluster/settings",
            r#"{"persistent": {"action.auto_create_index": "+logs-*,-*"},
                "transient": {"search.max_buckets": 20000}}"#,
        );
        assert_eq!(status, 200, "{body}");
        let (status, _) = server.post("/scratch/_doc", r#"{"a": 1}"#);
        assert_eq!(status, 404);
        server.stop();
    }
    let server = Server::start_in(&data_dir, &[]);
    let (_, settings) = server.get("/_cluster/settings?flat_settings=true");
    assert_eq!(
        settings,
        json!({"persistent": {"action.auto_create_index": "+logs-*,-*"}, "transient": {}})
    );
    let (status, error) = server.post("/scratch/_doc", r#"{"a": 1}"#);
    assert_eq!(status, 404, "{error}");
    assert_eq!(error["error"]["type"], "index_not_found_exception");
    let (status, _) = server.post("/logs-app-default/_doc", r#"{"message": "allowed"}"#);
    assert_eq!(status, 201);
    let (status, _) = server.put("/scratch", "{}");
    assert_eq!(
        status, 200,
        "creating an index explicitly is not automatic creation"
    );
}

/// Logstash's ILM mode (`ecs_compatibility => disabled`, default index): policy, template
/// with a rollover alias, a date math bootstrap index, then writes through the alias, which
/// the lifecycle policy rolls over and whose retired index it deletes.
#[test]
fn logstash_ilm_rollover_alias() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().join("data");
    let config = temporary.path().join("logfleet.toml");
    std::fs::write(&config, "[retention]\ncheck_interval = \"200ms\"\n").unwrap();
    let server = Server::start_in(&data_dir, &["--config", config.to_str().unwrap()]);

    let (status, _) = server.get("/_ilm/policy/logstash-policy");
    assert_eq!(status, 404);
    let policy = json!({"policy": {"phases": {
        "hot": {"actions": {"rollover": {"max_docs": 3, "max_age": "30d"}}},
        "delete": {"min_age": "1s", "actions": {"delete": {}}}
    }}});
    let (status, body) = server.put("/_ilm/policy/logstash-policy", &policy.to_string());
    assert_eq!(status, 200, "{body}");
    let template = json!({
        "index_patterns": "logstash-*",
        "priority": 200,
        "template": {
            "settings": {"index.refresh_interval": "5s", "number_of_shards": 1,
                         "index.lifecycle.name": "logstash-policy",
                         "index.lifecycle.rollover_alias": "logstash"},
            "mappings": {"dynamic_templates": [{"message_field": {
                "path_match": "message", "match_mapping_type": "string",
                "mapping": {"type": "text", "norms": false}}}]}
        }
    });
    let (status, body) = server.put("/_index_template/logstash", &template.to_string());
    assert_eq!(status, 200, "{body}");
    let (status, _) = server.request("HEAD", "/logstash", None);
    assert_eq!(status, 404);
    let (status, created) = server.put(
        "/%3Clogstash-%7Bnow%2Fd%7D-000001%3E",
        r#"{"aliases": {"logstash": {"is_write_index": true}}}"#,
    );
    assert_eq!(status, 200, "{created}");
    let first = created["index"].as_str().unwrap().to_owned();
    // A second Logstash starting finds the alias and leaves it.
    let (status, _) = server.request("HEAD", "/logstash", None);
    assert_eq!(status, 200);
    let (status, again) = server.put(
        "/%3Clogstash-%7Bnow%2Fd%7D-000001%3E",
        r#"{"aliases": {"logstash": {"is_write_index": true}}}"#,
    );
    assert_eq!(status, 400, "{again}");

    let mut body = String::new();
    for number in 0..4 {
        body.push_str("{\"index\":{\"_index\":\"logstash\"}}\n");
        body.push_str(&json!({"message": format!("event {number}"), "@version": "1"}).to_string());
        body.push('\n');
    }
    let (status, response) = server.bulk("/_bulk?refresh=true", &body);
    assert_eq!(
        (status, &response["errors"]),
        (200, &json!(false)),
        "{response}"
    );
    assert_eq!(response["items"][0]["index"]["_index"], first);

    // The policy rolls the alias over, then deletes the retired index after `min_age`.
    let second = first.replace("-000001", "-000002");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, aliases) = server.get("/_alias/logstash");
        if aliases == json!({second.clone(): {"aliases": {"logstash": {"is_write_index": true}}}}) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{aliases}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let (status, _) = server.request("HEAD", &format!("/{first}"), None);
    assert_eq!(status, 404);
    let (status, response) = server.bulk("/_bulk?refresh=true", &body);
    assert_eq!(status, 200);
    assert_eq!(response["items"][0]["index"]["_index"], second);
    assert_eq!(server.count("logstash"), 4);
}
