//! Loading generated events into a server as fast as it takes them, without holding them all
//! in memory: each connection generates its own bodies as it goes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};

use super::generator::EventGenerator;

/// Sends `events` generated events to `{base}/logs/_bulk`, spread evenly over
/// `[start_millis, end_millis)`, over `connections` connections; reports progress.
pub async fn load_events(
    client: &reqwest::Client,
    base: &str,
    events: usize,
    batch: usize,
    connections: usize,
    seed: u64,
    (start_millis, end_millis): (i64, i64),
) -> anyhow::Result<()> {
    let batches = events.div_ceil(batch);
    let next_batch = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let span_micros = (end_millis - start_millis) * 1000;
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..connections {
        let client = client.clone();
        let url = format!("{base}/logs/_bulk");
        let next_batch = next_batch.clone();
        let done = done.clone();
        workers.push(tokio::spawn(async move {
            loop {
                let index = next_batch.fetch_add(1, Ordering::Relaxed);
                if index >= batches {
                    return Ok::<(), anyhow::Error>(());
                }
                let first = index * batch;
                let count = batch.min(events - first);
                // Each batch covers its own slice of the time span, so the whole load is
                // spread evenly whatever order batches are sent in.
                let spacing = (span_micros / events as i64).max(1);
                let mut generator = EventGenerator::new(
                    seed.wrapping_add(index as u64),
                    start_millis + (first as i64 * spacing) / 1000,
                    spacing,
                );
                let mut body = String::with_capacity(count * 620);
                for _ in 0..count {
                    body.push_str("{\"create\":{}}\n");
                    generator.write_event(&mut body);
                    body.push('\n');
                }
                let response = client
                    .post(&url)
                    .header("content-type", "application/x-ndjson")
                    .body(body)
                    .send()
                    .await
                    .context("sending a bulk request")?;
                let status = response.status();
                let text = response.text().await?;
                if !status.is_success() || !text[..text.len().min(64)].contains("\"errors\":false")
                {
                    bail!(
                        "bulk request failed with {status}: {}",
                        &text[..text.len().min(500)]
                    );
                }
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                if finished.is_multiple_of((batches / 10).max(1)) {
                    super::progress(&format!(
                        "loaded {} of {events} events ({:.0}/s)",
                        (finished * batch).min(events),
                        (finished * batch) as f64 / started.elapsed().as_secs_f64()
                    ));
                }
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    Ok(())
}

/// Loads `events` generated events spread over the last 24 hours (with progress), as the
/// query and alert benchmarks start from.
pub async fn load_last_day(
    client: &reqwest::Client,
    base: &str,
    events: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let now = logfleet_store::now_millis();
    super::progress(&format!("loading {events} events over the last 24 hours"));
    load_events(
        client,
        base,
        events,
        5_000,
        2,
        seed,
        (now - 86_400_000, now),
    )
    .await
}
