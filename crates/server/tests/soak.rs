//! A short run of `logfleet bench soak`: the server killed with SIGKILL at random moments
//! (starting up and replaying its log, ingesting, committing, merging) and restarted, and
//! every acknowledged document found exactly once at the end, with at least one kill
//! during start-up. `logfleet bench soak
//! --cycles 500` runs the same for as long as one cares to (BENCHMARKS.md).

use std::process::Command;

/// Chosen so that four of the six cycles kill the server while it starts (cycles 2 to 5,
/// each replaying what the ingest before them logged): the moments stay random, and a kill
/// may come after the server listened, but not all four.
const SEED: &str = "276";

#[test]
fn every_acknowledged_document_survives_repeated_sigkills_exactly_once() {
    let output = Command::new(env!("CARGO_BIN_EXE_logfleet"))
        .args([
            "bench",
            "soak",
            "--cycles",
            "6",
            "--max-run",
            "1500ms",
            "--writers",
            "2",
            "--seed",
            SEED,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("all found exactly once"), "{stderr}");
    let killed_while_starting: usize = stderr
        .split_once(" killed while starting")
        .and_then(|(before, _)| before.rsplit_once('(')?.1.parse().ok())
        .expect("the report counts the kills during start-up");
    assert!(
        killed_while_starting >= 1,
        "no kill landed during start-up: {stderr}"
    );
}
