//! `logfleet bench soak`: SIGKILL the server at random moments, over and over, then check
//! that every acknowledged document is there exactly once.
//!
//! Each cycle starts `logfleet serve` on the same data directory and kills it without
//! warning: in about one cycle in four (never the first) while it is still starting
//! (replaying its write-ahead log), at a random moment within three quarters of the time
//! the last start-up took, otherwise after a random stretch of ingest by several writers into a plain index
//! (client-chosen ids) and a data stream (client-chosen and generated ids). A kill counts
//! as one during start-up only if the server did not accept connections yet, which it does
//! once its log is replayed.
//! The server refreshes every 100 ms with 1 MB log segments, so commits, log trims and
//! merges run all the time and are interrupted too. At the end a last server reads every
//! document back: each acknowledged one must be found, no document twice (by id or by the
//! unique marker each carries in its `marker` field). Documents whose acknowledgement the kill cut off may or may
//! not be there, but at most once too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::generator::Rng;
use super::process::ServerProcess;

/// `logfleet bench soak`.
#[derive(Debug, clap::Args)]
pub struct SoakArgs {
    /// Kill-and-restart cycles.
    #[arg(long, default_value_t = 20)]
    cycles: usize,
    /// The longest a server ingests before it is killed; each cycle draws its moment
    /// between a tenth of this and all of it.
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_positive)]
    max_run: Duration,
    /// Concurrent writers.
    #[arg(long, default_value_t = 3)]
    writers: usize,
    /// Seed of the random moments and choices; printed, so that a run can be repeated.
    #[arg(long)]
    seed: Option<u64>,
    /// Data directory [default: a temporary directory, removed after a run that passed].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

fn parse_positive(text: &str) -> Result<Duration, String> {
    let duration = logfleet_store::parse_time_value(text)?;
    if duration < Duration::from_millis(10) {
        return Err("the duration must be at least 10ms".to_owned());
    }
    Ok(duration)
}

const PLAIN_INDEX: &str = "soak-plain";
const DATA_STREAM: &str = "logs-soak-default";
const BATCH: usize = 200;

/// An acknowledged document: where it went, under which id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Acknowledged {
    token: String,
    id: String,
}

/// What the run did.
#[derive(Debug, Default)]
struct Tally {
    kills_while_starting: usize,
    /// Kills meant for the start-up that came after it: the server already listened.
    kills_after_starting: usize,
    kills_while_ingesting: usize,
    acknowledged: BTreeSet<Acknowledged>,
}

/// Runs the soak; fails if a document was lost or doubled.
pub fn run(args: SoakArgs) -> anyhow::Result<()> {
    if args.cycles == 0 || args.writers == 0 {
        bail!("--cycles and --writers must be positive");
    }
    let seed = args.seed.unwrap_or_else(|| {
        // Any seed will do, as long as it is printed.
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64)
    });
    super::progress(&format!(
        "soak: {} cycles, {} writers, kills within {:?}, seed {seed}",
        args.cycles, args.writers, args.max_run
    ));
    let temporary = tempfile::tempdir()?;
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| temporary.path().join("data"));
    std::fs::create_dir_all(&data_dir)?;
    let config = temporary.path().join("soak.toml");
    // Small log segments and frequent commits: trims, commits and merges all the time.
    std::fs::write(
        &config,
        "wal_segment_size = \"1mb\"\nrefresh_interval = \"100ms\"\nsearch_idle_after = \"-1\"\n",
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let started = Instant::now();
    let outcome = runtime.block_on(soak(&args, seed, &data_dir, &config));
    match outcome {
        Ok(report) => {
            super::progress(&format!(
                "soak passed in {:.0?}: {report}",
                started.elapsed()
            ));
            Ok(())
        }
        Err(error) => {
            // The evidence stays for a look.
            let kept = temporary.keep();
            Err(error.context(format!(
                "the soak failed (seed {seed}); its data directory is kept under {}",
                kept.display()
            )))
        }
    }
}

async fn soak(
    args: &SoakArgs,
    seed: u64,
    data_dir: &Path,
    config: &Path,
) -> anyhow::Result<String> {
    let mut random = Rng::new(seed);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let flags = [
        "--config",
        config.to_str().context("a UTF-8 temporary path")?,
    ];
    let mut tally = Tally::default();
    // How long the last start-up took, until the server listened.
    let mut last_start_up = Duration::from_millis(400);
    for cycle in 0..args.cycles {
        let started = Instant::now();
        let mut server = ServerProcess::start(data_dir, &flags)?;
        // The first cycle leaves a log to replay.
        if cycle > 0 && random.below(4) == 0 {
            // Killed while starting: often in the middle of replaying the log.
            // Within three quarters of the last start-up: start-ups vary, and most of these
            // kills should land before the server listens.
            let window = (last_start_up.as_millis() as u64 * 3 / 4).max(1);
            tokio::time::sleep(Duration::from_millis(random.below(window))).await;
            // The server listens only once its store is open: a refused connection means
            // the kill lands during start-up.
            let listening = tokio::net::TcpStream::connect(server.address).await.is_ok();
            server.kill();
            if listening {
                tally.kills_after_starting += 1;
            } else {
                tally.kills_while_starting += 1;
            }
            continue;
        }
        last_start_up = wait_listening(&mut server, started).await;
        server
            .wait_ready(&client)
            .await
            .with_context(|| format!("cycle {cycle}: the server did not start"))?;
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let writers: Vec<_> = (0..args.writers)
            .map(|writer| {
                let client = client.clone();
                let base = format!("http://{}", server.address);
                let acknowledged = acknowledged.clone();
                tokio::spawn(write_until_killed(
                    client,
                    base,
                    cycle,
                    writer,
                    acknowledged,
                ))
            })
            .collect();
        let max_millis = args.max_run.as_millis() as u64;
        let first_tenth = max_millis / 10;
        let run = first_tenth + random.below(max_millis - first_tenth + 1);
        tokio::time::sleep(Duration::from_millis(run)).await;
        server.kill();
        tally.kills_while_ingesting += 1;
        for writer in writers {
            writer.await?;
        }
        let acknowledged = std::mem::take(
            &mut *acknowledged
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        super::progress(&format!(
            "cycle {}/{}: {} acknowledged before the kill",
            cycle + 1,
            args.cycles,
            acknowledged.len()
        ));
        tally.acknowledged.extend(acknowledged);
    }
    let mut server = ServerProcess::start(data_dir, &flags)?;
    server.wait_ready(&client).await?;
    let base = format!("http://{}", server.address);
    let found = read_everything(&client, &base).await?;
    let problems = check(&tally.acknowledged, &found);
    server.stop()?;
    if !problems.is_empty() {
        bail!("{}", problems.join("; "));
    }
    Ok(format!(
        "{} cycles ({} killed while starting, {} just after starting, {} while ingesting), {} \
         documents acknowledged, all found exactly once; {} more were written but their \
         acknowledgement was cut off",
        args.cycles,
        tally.kills_while_starting,
        tally.kills_after_starting,
        tally.kills_while_ingesting,
        tally.acknowledged.len(),
        found.len().saturating_sub(tally.acknowledged.len()),
    ))
}

/// How long after `started` the server began to accept connections, measured to a few
/// milliseconds (answering `GET /` comes a little later, and is polled more slowly).
async fn wait_listening(server: &mut ServerProcess, started: Instant) -> Duration {
    let deadline = started + Duration::from_secs(60);
    while Instant::now() < deadline {
        // One that exited (a data directory in use, say) is reported by `wait_ready`.
        if server.has_exited() || tokio::net::TcpStream::connect(server.address).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    started.elapsed()
}

/// Sends batches until the server stops answering; records what was acknowledged.
async fn write_until_killed(
    client: reqwest::Client,
    base: String,
    cycle: usize,
    writer: usize,
    acknowledged: Arc<Mutex<Vec<Acknowledged>>>,
) {
    for batch in 0.. {
        let mut body = String::with_capacity(BATCH * 200);
        let mut tokens = Vec::with_capacity(BATCH);
        for number in 0..BATCH {
            let token = format!("c{cycle}-w{writer}-b{batch}-{number}");
            // A third each: plain index with an id, data stream with an id, data stream
            // with a generated id.
            let action = match number % 3 {
                0 => json!({"index": {"_index": PLAIN_INDEX, "_id": token}}),
                1 => json!({"create": {"_index": DATA_STREAM, "_id": token}}),
                _ => json!({"create": {"_index": DATA_STREAM}}),
            };
            let document = json!({
                "@timestamp": logfleet_time::format_epoch_millis(logfleet_store::now_millis()),
                "log_category": "soak",
                "message": format!("soak document {token}"),
                "marker": token,
            });
            body.push_str(&action.to_string());
            body.push('\n');
            body.push_str(&document.to_string());
            body.push('\n');
            tokens.push(token);
        }
        let response = client
            .post(format!("{base}/_bulk"))
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await;
        let Ok(response) = response else { return };
        let Ok(body) = response.bytes().await else {
            return;
        };
        let Ok(answer) = serde_json::from_slice::<Value>(&body) else {
            return;
        };
        let Some(items) = answer["items"].as_array() else {
            return;
        };
        let mut accepted = Vec::new();
        for (item, token) in items.iter().zip(tokens) {
            let Some(result) = item.as_object().and_then(|item| item.values().next()) else {
                continue;
            };
            let status = result["status"].as_u64().unwrap_or(0);
            if status == 200 || status == 201 {
                accepted.push(Acknowledged {
                    token,
                    id: result["_id"].as_str().unwrap_or_default().to_owned(),
                });
            }
        }
        acknowledged
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(accepted);
    }
}

/// Every document of the soak's targets: `(index, id, token)`.
async fn read_everything(
    client: &reqwest::Client,
    base: &str,
) -> anyhow::Result<Vec<(String, String, String)>> {
    let refreshed = client.post(format!("{base}/_refresh")).send().await?;
    if !refreshed.status().is_success() {
        bail!("the last refresh failed: {}", refreshed.text().await?);
    }
    let mut found = Vec::new();
    let first_page = format!("{base}/{PLAIN_INDEX},{DATA_STREAM}/_search?scroll=1m");
    let query = json!({"size": 5000, "_source": ["marker"], "sort": ["_doc"]});
    let mut page = post_json(client, &first_page, &query).await?;
    loop {
        let hits = page["hits"]["hits"].as_array().cloned().unwrap_or_default();
        if hits.is_empty() {
            break;
        }
        for hit in hits {
            found.push((
                hit["_index"].as_str().unwrap_or_default().to_owned(),
                hit["_id"].as_str().unwrap_or_default().to_owned(),
                hit["_source"]["marker"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ));
        }
        let Some(scroll_id) = page["_scroll_id"].as_str().map(str::to_owned) else {
            break;
        };
        let next = json!({"scroll": "1m", "scroll_id": scroll_id});
        page = post_json(client, &format!("{base}/_search/scroll"), &next).await?;
    }
    super::progress(&format!("read back {} documents", found.len()));
    Ok(found)
}

async fn post_json(client: &reqwest::Client, url: &str, body: &Value) -> anyhow::Result<Value> {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    if !status.is_success() {
        bail!(
            "{url} answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    Ok(serde_json::from_slice(&bytes)?)
}

/// What is wrong with what was found, against what was acknowledged.
fn check(acknowledged: &BTreeSet<Acknowledged>, found: &[(String, String, String)]) -> Vec<String> {
    let mut by_token: BTreeMap<&str, usize> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    let mut doubled_ids = Vec::new();
    for (index, id, token) in found {
        *by_token.entry(token.as_str()).or_default() += 1;
        // A plain index's id is unique; a data stream's backing index holds each of its
        // ids once (a document applied twice would be there twice).
        let key = if index.starts_with(".ds-") {
            format!("{DATA_STREAM}/{id}")
        } else {
            format!("{index}/{id}")
        };
        if !ids.insert(key.clone()) {
            doubled_ids.push(key);
        }
    }
    let mut problems = Vec::new();
    let doubled: Vec<&str> = by_token
        .iter()
        .filter(|(_, count)| **count > 1)
        .map(|(token, _)| *token)
        .collect();
    if !doubled.is_empty() {
        problems.push(format!(
            "{} documents found more than once, e.g. {:?}",
            doubled.len(),
            &doubled[..doubled.len().min(5)]
        ));
    }
    if !doubled_ids.is_empty() {
        problems.push(format!(
            "{} ids found more than once, e.g. {:?}",
            doubled_ids.len(),
            &doubled_ids[..doubled_ids.len().min(5)]
        ));
    }
    let lost: Vec<&Acknowledged> = acknowledged
        .iter()
        .filter(|document| !by_token.contains_key(document.token.as_str()))
        .collect();
    if !lost.is_empty() {
        problems.push(format!(
            "{} acknowledged documents lost, e.g. {:?}",
            lost.len(),
            &lost[..lost.len().min(5)]
        ));
    }
    let found_ids: BTreeMap<&str, &str> = found
        .iter()
        .map(|(_, id, token)| (token.as_str(), id.as_str()))
        .collect();
    let moved: Vec<&Acknowledged> = acknowledged
        .iter()
        .filter(|document| {
            found_ids
                .get(document.token.as_str())
                .is_some_and(|id| *id != document.id)
        })
        .collect();
    if !moved.is_empty() {
        problems.push(format!(
            "{} acknowledged documents found under another id than acknowledged, e.g. {:?}",
            moved.len(),
            &moved[..moved.len().min(5)]
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acknowledged(token: &str, id: &str) -> Acknowledged {
        Acknowledged {
            token: token.to_owned(),
            id: id.to_owned(),
        }
    }

    fn found(index: &str, id: &str, token: &str) -> (String, String, String) {
        (index.to_owned(), id.to_owned(), token.to_owned())
    }

    #[test]
    fn lost_doubled_and_renamed_documents_are_each_reported() {
        let sent: BTreeSet<_> = [
            acknowledged("a", "a"),
            acknowledged("b", "x1"),
            acknowledged("c", "c"),
        ]
        .into();
        let whole = [
            found(PLAIN_INDEX, "a", "a"),
            found(".ds-logs-soak-default-2026.12.07-000001", "x1", "b"),
            found(PLAIN_INDEX, "c", "c"),
            found(PLAIN_INDEX, "d", "d"),
        ];
        assert!(
            check(&sent, &whole).is_empty(),
            "unacknowledged extras are fine"
        );
        let doubled = [
            found(PLAIN_INDEX, "a", "a"),
            found(".ds-logs-soak-default-2026.12.07-000001", "x1", "b"),
            found(".ds-logs-soak-default-2026.12.07-000002", "x1", "b"),
            found(PLAIN_INDEX, "c", "c"),
        ];
        let problems = check(&sent, &doubled);
        assert_eq!(problems.len(), 2, "{problems:?}");
        let lost = [found(PLAIN_INDEX, "a", "a"), found(PLAIN_INDEX, "c", "c")];
        assert!(check(&sent, &lost)[0].contains("1 acknowledged documents lost"));
        let renamed = [
            found(PLAIN_INDEX, "a", "a"),
            found(".ds-logs-soak-default-2026.12.07-000001", "x2", "b"),
            found(PLAIN_INDEX, "c", "c"),
        ];
        assert!(check(&sent, &renamed)[0].contains("another id"));
    }
}
