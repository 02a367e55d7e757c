//! Builds the web UI (`ui/`) and embeds its files in the binary.
//!
//! With Node.js and npm on the machine, the UI is built (`npm ci` when its dependencies are
//! missing or changed, then `npm run build`) whenever its sources change, and a failed UI
//! build fails the binary's build. Without them — or with `LOGFLEET_SKIP_UI_BUILD=1` — a
//! `ui/dist` built earlier is embedded as it is, and with none the binary serves a page at
//! `/_ui/` that says how to build the UI. Either way `$OUT_DIR/ui_assets.rs` holds the table
//! of files that `src/serve.rs` hands to the API.
//!
//! The prebuilt dashboards (`dashboards/*.json` at the repository's root) are embedded too, in
//! `$OUT_DIR/dashboards.rs`, for the server to install on a data directory's first start.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let ui = manifest_dir.join("../../ui");
    let dist = ui.join("dist");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=LOGFLEET_SKIP_UI_BUILD");
    let skip = std::env::var_os("LOGFLEET_SKIP_UI_BUILD").is_some_and(|value| value != "0");
    if ui.join("package.json").exists() {
        for source in [
            "src",
            "package.json",
            "package-lock.json",
            "build.mjs",
            "tsconfig.json",
        ] {
            // A path that does not exist would rerun this script at every build.
            let path = ui.join(source);
            if path.exists() {
                println!("cargo::rerun-if-changed={}", path.display());
            }
        }
        match npm() {
            Some(npm) if !skip => build_ui(&npm, &ui),
            _ => {
                // The files built by hand are what gets embedded: watch them instead.
                if dist.exists() {
                    println!("cargo::rerun-if-changed={}", dist.display());
                }
                if !skip && !dist.join("index.html").exists() {
                    println!(
                        "cargo::warning=Node.js and npm were not found: this build serves a \
                         page at /_ui/ that says how to build the web UI"
                    );
                }
            }
        }
    }
    let table = asset_table(&dist);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(error) = std::fs::write(out.join("ui_assets.rs"), table) {
        panic!("writing the UI asset table: {error}");
    }
    let dashboards = manifest_dir.join("../../dashboards");
    if dashboards.exists() {
        println!("cargo::rerun-if-changed={}", dashboards.display());
    }
    if let Err(error) = std::fs::write(out.join("dashboards.rs"), dashboard_table(&dashboards)) {
        panic!("writing the dashboard table: {error}");
    }
}

/// Rust source of a `&[(&str, &str)]` of file names and contents, one per `*.json` file of
/// `dir`, in name order.
fn dashboard_table(dir: &Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    files.sort();
    let mut table = String::from("&[\n");
    for path in files {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let _ = writeln!(
            table,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    table.push(']');
    table
}

/// The `npm` executable, if Node.js is installed.
fn npm() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("npm"))
        .find(|candidate| candidate.is_file())
}

fn build_ui(npm: &Path, ui: &Path) {
    // `npm ci` leaves `node_modules/.package-lock.json` behind; when the lockfile is newer,
    // the dependencies changed.
    let installed = ui.join("node_modules/.package-lock.json");
    let stale = match (
        modified(&installed),
        modified(&ui.join("package-lock.json")),
    ) {
        (Some(installed), Some(lock)) => lock > installed,
        _ => true,
    };
    if stale {
        run(npm, ui, &["ci", "--no-audit", "--no-fund"]);
    }
    run(npm, ui, &["run", "build"]);
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    path.metadata()
        .and_then(|metadata| metadata.modified())
        .ok()
}

fn run(npm: &Path, ui: &Path, arguments: &[&str]) {
    let output = Command::new(npm).args(arguments).current_dir(ui).output();
    match output {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "building the web UI failed: npm {} exited with {}\n{}\n{}\n(set \
             LOGFLEET_SKIP_UI_BUILD=1 to build the binary without it)",
            arguments.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        ),
        Err(error) => panic!("running npm {}: {error}", arguments.join(" ")),
    }
}

/// Rust source of a `&[UiAsset]` holding every file of `dist` (and its `.gz` and `.br`
/// siblings), empty when there is no build.
fn asset_table(dist: &Path) -> String {
    let mut files = Vec::new();
    if dist.join("index.html").exists() {
        collect(dist, dist, &mut files);
    }
    files.sort();
    let mut table = String::from("&[\n");
    for relative in files {
        if relative.ends_with(".gz") || relative.ends_with(".br") {
            continue;
        }
        let path = dist.join(&relative);
        let sibling = |extension: &str| {
            let compressed = PathBuf::from(format!("{}.{extension}", path.display()));
            if compressed.is_file() {
                format!(
                    "Some(include_bytes!({:?}))",
                    compressed.display().to_string()
                )
            } else {
                "None".to_owned()
            }
        };
        let _ = writeln!(
            table,
            "    logfleet_api::UiAsset {{ path: {relative:?}, identity: include_bytes!({:?}), \
             gzip: {}, brotli: {} }},",
            path.display().to_string(),
            sibling("gz"),
            sibling("br"),
        );
    }
    table.push(']');
    table
}

/// Every file below `dir`, as paths relative to `root` with `/` separators.
fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let relative: Vec<String> = relative
                .components()
                .map(|component| component.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push(relative.join("/"));
        }
    }
}
