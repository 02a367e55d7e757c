//! A short run of `logfleet bench soak`: the server killed with SIGKILL at random moments
//! (starting up and replaying its log, ingesting, committing, merging) and restarted, and
//! every acknowledged document found exactly once at the end. `logfleet bench soak
//! --cycles 500` runs the same for as long as one cares to (BENCHMARKS.md).

use std::process::Command;

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
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("all found exactly once"), "{stderr}");
}
