//! The real binary on a real, small file system that fills up (a tmpfs, which needs root;
//! the tests say so and pass where they cannot mount one), and two processes on one data
//! directory (servers and benchmarks).
//!
//! `crates/store/tests/storage_faults.rs` injects each storage fault where it strikes;
//! these tests show the same from a client's side.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, free_port};
use serde_json::Value;

/// A tmpfs of a given size, unmounted when dropped.
struct SmallFileSystem {
    mount_point: PathBuf,
    /// Holds the server log and the configuration, off the small file system.
    outside: tempfile::TempDir,
}

impl SmallFileSystem {
    #[expect(
        clippy::print_stderr,
        reason = "a skipped test says why in the test output"
    )]
    fn mount(megabytes: u32) -> Option<SmallFileSystem> {
        let outside = tempfile::tempdir().unwrap();
        let mount_point = outside.path().join("small");
        std::fs::create_dir_all(&mount_point).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&mount_point)
            .output();
        match mounted {
            Ok(output) if output.status.success() => Some(SmallFileSystem {
                mount_point,
                outside,
            }),
            Ok(output) => {
                eprintln!(
                    "skipped: mounting a {megabytes} MB tmpfs needs root ({})",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                None
            }
            Err(error) => {
                eprintln!("skipped: cannot run mount ({error})");
                None
            }
        }
    }

    /// Fills `megabytes` of the file system with a file; returns its path.
    fn fill(&self, megabytes: usize) -> PathBuf {
        self.fill_bytes("filler", megabytes << 20)
    }

    fn fill_bytes(&self, name: &str, bytes: usize) -> PathBuf {
        let path = self.mount_point.join(name);
        std::fs::write(&path, vec![0x5a; bytes]).unwrap();
        path
    }

    fn available_bytes(&self) -> u64 {
        let output = Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(&self.mount_point)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        text.lines().nth(1).unwrap().trim().parse().unwrap()
    }

    fn config(&self, toml: &str) -> PathBuf {
        let path = self.outside.path().join("logfleet.toml");
        std::fs::write(&path, toml).unwrap();
        path
    }

    /// Starts the server on the small file system, its log outside it.
    fn start(&self, config: &Path) -> Server {
        let data_dir = self.mount_point.join("data");
        let port = free_port();
        let log = self.outside.path().join(format!("server-{port}.log"));
        let config = config.to_str().unwrap();
        Server::start_logging_to("serve", &data_dir, port, &log, &["--config", config])
    }
}

impl Drop for SmallFileSystem {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(&self.mount_point)
            .status();
    }
}

/// Makes each document about half a kilobyte, so that the disk fills in seconds.
const PADDING: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
    Chrome/131.0.0.0 Safari/537.36 Logfleet-Storage-Test/1.0 (+a user agent long enough to fill \
    a small file system quickly with documents that still look like the seed's events)";

/// Sends batches of 500 documents with explicit ids into `index` until one is not
/// acknowledged whole, or `max_batches` were sent; returns the acknowledged ids and the
/// last (refused) response.
fn write_until_refused(
    server: &Server,
    index: &str,
    prefix: &str,
    max_batches: usize,
) -> (BTreeSet<String>, Option<(u16, Value)>) {
    let mut acknowledged = BTreeSet::new();
    for batch in 0..max_batches {
        let mut body = String::new();
        for number in 0..500 {
            let id = format!("{prefix}-{batch}-{number}");
            body.push_str(&format!(
                "{{\"index\":{{\"_index\":\"{index}\",\"_id\":\"{id}\"}}}}\n"
            ));
            body.push_str(&format!(
                "{{\"@timestamp\":\"2026-12-06T10:00:00Z\",\"message\":\"request {id} took a while to answer\",\"level\":\"info\",\"app_name\":\"svc{}\",\"status_code\":{},\"duration_ms\":{}.5,\"user_agent\":\"{PADDING}\"}}\n",
                number % 7,
                200 + (number % 3) * 100,
                number
            ));
        }
        let (status, response) = server.post("/_bulk", &body);
        let mut refused = status != 200;
        if status == 200 {
            for item in response["items"].as_array().unwrap() {
                let item = &item["index"];
                if item["status"] == 201 || item["status"] == 200 {
                    acknowledged.insert(item["_id"].as_str().unwrap().to_owned());
                } else {
                    refused = true;
                }
            }
        }
        if refused {
            return (acknowledged, Some((status, response)));
        }
    }
    (acknowledged, None)
}

/// The first item error of a bulk response.
fn first_item_error(response: &Value) -> &Value {
    response["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| &item["index"])
        .find(|item| item.get("error").is_some())
        .unwrap()
}

fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if condition() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting until {what}");
}

/// The report that started the storage fault work, replayed: with the flood stage turned
/// off the disk really fills, and nothing acknowledged may be lost — not while the disk is
/// full, not once space returns, not after a restart.
#[test]
fn acknowledged_documents_survive_a_full_disk() {
    let Some(small) = SmallFileSystem::mount(80) else {
        return;
    };
    let filler = small.fill(24);
    let config = small.config("wal_segment_size = \"8mb\"\n[disk]\nthreshold_enabled = false\n");
    let mut server = small.start(&config);
    let (acknowledged, refused) = write_until_refused(&server, "full", "d", 1_000);
    let (status, response) = refused.expect("the disk filled up");
    assert!(
        acknowledged.len() >= 5_000,
        "{} acknowledged",
        acknowledged.len()
    );
    // The batch that met the full disk is refused as a whole, retryably, with a reason.
    assert_eq!(status, 200, "{response}");
    let error = first_item_error(&response);
    assert_eq!(error["status"], 429, "{error}");
    assert_eq!(error["error"]["type"], "cluster_block_exception");
    let reason = error["error"]["reason"].as_str().unwrap();
    assert!(reason.contains("flood-stage watermark"), "{reason}");
    assert!(reason.contains("full"), "{reason}");

    // Reads go on while the disk is full.
    let (status, health) = server.get("/_cluster/health");
    assert_eq!(status, 200);
    assert_eq!(health["status"], "red", "{health}");
    assert_eq!(health["logfleet_storage"]["writes"], "refused", "{health}");
    let (status, body) = server.get("/full/_count");
    assert_eq!(status, 200, "{body}");
    assert!(body["count"].as_u64().unwrap() <= acknowledged.len() as u64);

    // Space returns: everything acknowledged is searchable again, without a restart.
    std::fs::remove_file(&filler).unwrap();
    wait_until("the refresh succeeds", || {
        server.post("/_refresh", "").0 == 200
    });
    assert_eq!(server.count("full"), acknowledged.len() as u64);
    wait_until("writes are accepted again", || {
        server.get("/_cluster/health").1["status"] == "green"
    });
    let (more, refused) = write_until_refused(&server, "full", "after", 2);
    assert!(refused.is_none(), "{refused:?}");
    let sample = acknowledged.iter().step_by(997).chain(more.iter().take(1));
    for id in sample {
        let (status, body) = server.get(&format!("/full/_doc/{id}"));
        assert_eq!(status, 200, "{id}: {body}");
    }

    // And after a restart, each exactly once.
    server.stop();
    let server = small.start(&config);
    assert_eq!(
        server.count("full"),
        (acknowledged.len() + more.len()) as u64
    );
}

#[test]
fn the_flood_stage_refuses_writes_until_space_returns() {
    let Some(small) = SmallFileSystem::mount(80) else {
        return;
    };
    let filler = small.fill(52);
    let config = small.config(
        "refresh_interval = \"200ms\"\nsearch_idle_after = \"-1\"\n\
         [disk]\nflood_stage = \"95%\"\nflood_stage_min_free = \"20mb\"\n",
    );
    let server = small.start(&config);
    let (status, _) = server.put("/spare", "{}");
    assert_eq!(status, 200);
    let (acknowledged, refused) = write_until_refused(&server, "flood", "d", 1_000);
    let (status, response) = refused.expect("the flood stage was reached");
    assert_eq!(status, 200);
    let error = first_item_error(&response);
    assert_eq!(error["status"], 429, "{error}");
    assert_eq!(error["error"]["type"], "cluster_block_exception", "{error}");
    let reason = error["error"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(
            "index [flood] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage \
             watermark, index has read-only-allow-delete block];"
        ),
        "Elasticsearch's words, which shippers know: {reason}"
    );
    assert!(reason.contains("% full"), "and what to do: {reason}");
    // The flood stage left room: nothing failed for want of space, all becomes searchable.
    wait_until("every acknowledged document is searchable", || {
        server.count("flood") == acknowledged.len() as u64
    });
    // Commits have trimmed the log by now, which may have lifted the block; another file
    // keeps the disk past the flood stage for the checks below.
    let more = small.fill_bytes(
        "more",
        small.available_bytes().saturating_sub(5 << 20) as usize,
    );
    let (status, body) = server.put("/flood/_doc/one", "{\"message\":\"x\"}");
    assert_eq!(
        status, 429,
        "a single document gets the same answer: {body}"
    );
    assert_eq!(body["error"]["type"], "cluster_block_exception");
    assert_eq!(body["status"], 429);
    let (_, health) = server.get("/_cluster/health");
    assert_eq!(health["status"], "red", "{health}");
    let why = health["logfleet_storage"]["reason"].as_str().unwrap();
    assert!(why.contains("flood-stage watermark"), "{why}");
    assert_eq!(
        server.count("flood"),
        acknowledged.len() as u64,
        "reads go on"
    );
    // Deleting an index frees space and is allowed, as `read_only_allow_delete` allows it.
    let (status, body) = server.request("DELETE", "/spare", None);
    assert_eq!(status, 200, "{body}");
    assert!(
        server
            .log()
            .contains("flood stage reached, writes are refused"),
        "the log says why"
    );

    std::fs::remove_file(&more).unwrap();
    std::fs::remove_file(&filler).unwrap();
    wait_until("writes resume by themselves", || {
        server.put("/flood/_doc/one", "{\"message\":\"x\"}").0 == 201
    });
    assert_eq!(server.get("/_cluster/health").1["status"], "green");
    assert!(
        server
            .log()
            .contains("disk space is back, writes are accepted again")
    );
}

#[test]
fn a_second_process_on_the_same_data_directory_is_refused() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().join("data");
    let first = Server::start_in(&data_dir, &[]);
    let (status, _) = first.put("/kept/_doc/1?refresh=true", "{\"message\":\"first\"}");
    assert_eq!(status, 201);
    for subcommand in ["serve", "quickstart"] {
        let output = Command::new(env!("CARGO_BIN_EXE_logfleet"))
            .arg(subcommand)
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", free_port()))
            .output()
            .unwrap();
        assert!(
            !output.status.success(),
            "{subcommand} must refuse to start"
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        let expected = format!(
            "is in use by another Logfleet process (pid {})",
            first.pid()
        );
        assert!(stderr.contains(&expected), "{subcommand}: {stderr}");
        assert!(stderr.contains(&data_dir.display().to_string()), "{stderr}");
    }
    assert_eq!(first.count("kept"), 1, "the first server is untouched");
}

#[test]
fn a_killed_server_leaves_no_lock_behind() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().join("data");
    let mut first = Server::start_in(&data_dir, &[]);
    let (status, _) = first.put("/kept/_doc/1", "{\"message\":\"first\"}");
    assert_eq!(status, 201);
    first.kill();
    let second = Server::start_in(&data_dir, &[]);
    assert_eq!(second.count("kept"), 1);
}

/// The benchmarks that start a server on a given data directory meet the same lock.
#[test]
fn benchmarks_on_a_data_directory_in_use_are_refused() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().join("data");
    let first = Server::start_in(&data_dir, &[]);
    let (status, _) = first.put("/kept/_doc/1?refresh=true", "{\"message\":\"first\"}");
    assert_eq!(status, 201);
    let data_dir_arg = data_dir.to_str().unwrap();
    let benchmarks: [&[&str]; 2] = [
        &["bench", "query", "--no-load", "--data-dir", data_dir_arg],
        &[
            "bench",
            "soak",
            "--cycles",
            "1",
            "--seed",
            "7",
            "--data-dir",
            data_dir_arg,
        ],
    ];
    for arguments in benchmarks {
        let output = Command::new(env!("CARGO_BIN_EXE_logfleet"))
            .args(arguments)
            // A failed soak keeps its temporary directory as evidence: here, not in /tmp.
            .env("TMPDIR", temporary.path())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{arguments:?} must be refused");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let expected = format!(
            "the data directory {} is in use by another Logfleet process (pid {})",
            data_dir.display(),
            first.pid()
        );
        assert!(stderr.contains(&expected), "{arguments:?}: {stderr}");
    }
    assert_eq!(first.count("kept"), 1, "the first server is untouched");
}
