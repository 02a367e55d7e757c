//! `logfleet serve`: open the store, serve the API, shut down cleanly on Ctrl-C or SIGTERM.

use anyhow::Context;
use logfleet_api::{ApiConfig, AppState, UiAsset, UiSource, router};
use logfleet_store::Store;
use tracing::info;
use tracing_subscriber::EnvFilter;

use crate::config::Config;

/// The web UI, built from `ui/` by `build.rs` (empty when it was built without Node.js).
static UI_ASSETS: &[UiAsset] = include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));
/// The repository's `dashboards/*.json`: file name and text.
static PREBUILT_DASHBOARDS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/dashboards.rs"));

/// Sets up logging to stderr as configured.
pub fn init_logging(config: &Config) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&config.log_level)
        .with_context(|| format!("invalid log_level {:?}", config.log_level))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // The JSON layout would need tracing-subscriber's json feature; text is what people read
    // and what shippers can parse line by line.
    builder
        .try_init()
        .map_err(|error| anyhow::anyhow!("logging already initialised: {error}"))?;
    Ok(())
}

/// Runs the server until a shutdown signal.
pub fn run(config: Config) -> anyhow::Result<()> {
    init_logging(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("logfleet-http")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(config, None, shutdown_signal()))
}

/// Serves until `shutdown` completes, then commits and closes the store. `ready` learns the
/// bound address once requests are accepted.
pub async fn serve(
    config: Config,
    ready: Option<tokio::sync::oneshot::Sender<std::net::SocketAddr>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store_config = config.store_config()?;
    let data_dir = store_config.data_dir.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(store_config))
        .await?
        .with_context(|| format!("opening the data directory {}", data_dir.display()))?;
    store.spawn_background_tasks();
    let installed = logfleet_api::install_prebuilt_dashboards(&store, PREBUILT_DASHBOARDS)
        .map_err(|error| anyhow::anyhow!("installing the prebuilt dashboards: {}", error.reason))?;
    if installed > 0 {
        info!(installed, "installed the prebuilt dashboards");
    }
    let (cluster_uuid, cluster_created_ms) = cluster_uuid(&data_dir)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let address = listener.local_addr()?;
    let api_config = ApiConfig {
        cluster_name: config.cluster_name.clone(),
        node_name: config.node_name.clone(),
        cluster_uuid,
        cluster_created_ms,
        max_content_length: config.max_content_length_bytes()?,
        publish_address: Some(address),
        ui: match &config.ui_dir {
            Some(dir) => UiSource::Directory(dir.clone()),
            None => UiSource::Embedded(UI_ASSETS),
        },
        geoip_directory: Some(config.geoip_directory()),
        smtp: config.alerts.smtp.clone(),
    };
    let geoip_directory = config.geoip_directory();
    if crate::geoip::has_database(&geoip_directory) {
        info!(directory = %geoip_directory.display(), "GeoIP database found; {}", crate::geoip::ATTRIBUTION);
    } else {
        tracing::warn!(
            directory = %geoip_directory.display(),
            "no GeoIP database: the geoip processor adds nothing (no geo.* fields, an empty map); \
             `logfleet setup geoip` fetches DB-IP's free one"
        );
    }
    let state = AppState::new(store.clone(), api_config);
    state
        .install_configured_pipelines(&config.ingest.pipelines)
        .map_err(|error| anyhow::anyhow!("{}", error.reason))?;
    info!(address = %format!("http://{address}"), data_dir = %data_dir.display(), "logfleet is ready");
    if !address.ip().is_loopback() {
        tracing::warn!(%address, "listening beyond loopback: the API has no authentication");
    }
    // One signal stops every listener and input.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let otlp = match &config.inputs.otlp {
        Some(otlp) => {
            let listener = tokio::net::TcpListener::bind(otlp.listen)
                .await
                .with_context(|| format!("binding the OTLP/HTTP address {}", otlp.listen))?;
            info!(address = %format!("http://{}/v1/logs", listener.local_addr()?), "OTLP/HTTP logs");
            let server = axum::serve(listener, logfleet_api::otlp_router(state.clone()))
                .with_graceful_shutdown(until_stopped(stopped.clone()));
            Some(tokio::spawn(server.into_future()))
        }
        None => None,
    };
    let inputs = config
        .inputs
        .start(&state.ingest, &data_dir)
        .await
        .context("starting the inputs")?;
    let prebuilt = if config.alerts.prebuilt {
        state
            .alerts
            .install_prebuilt()
            .map_err(|error| anyhow::anyhow!("installing the prebuilt alert rules: {error}"))?
    } else {
        0
    };
    if prebuilt > 0 {
        info!(prebuilt, "installed the prebuilt SLA alert rules");
    }
    state
        .alerts
        .install_configured(&config.alerts.rules)
        .map_err(|error| anyhow::anyhow!("[[alerts.rules]]: {error}"))?;
    let alerting = state.alerts.spawn(stopped.clone());
    if let Some(ready) = ready {
        let _ = ready.send(address);
    }
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    axum::serve(listener, router(state))
        .with_graceful_shutdown(until_stopped(stopped))
        .await
        .context("serving HTTP")?;
    if let Some(otlp) = otlp {
        let _ = otlp.await;
    }
    let _ = alerting.await;
    info!("stopping the inputs");
    inputs.stop(std::time::Duration::from_secs(10)).await;
    info!("shutting down: committing and closing the store");
    store.shutdown().await.context("closing the store")?;
    info!("stopped");
    Ok(())
}

/// A stable id for the data directory, shown as `cluster_uuid`, and when it was created
/// (epoch milliseconds).
fn cluster_uuid(data_dir: &std::path::Path) -> anyhow::Result<(String, i64)> {
    let path = data_dir.join("cluster_uuid");
    let uuid = match std::fs::read_to_string(&path) {
        Ok(existing) => existing.trim().to_owned(),
        Err(_) => {
            let uuid = logfleet_store::new_document_id();
            std::fs::write(&path, &uuid).with_context(|| format!("writing {}", path.display()))?;
            uuid
        }
    };
    let created_ms = std::fs::metadata(&path)
        .and_then(|metadata| metadata.modified())
        .ok()
        .and_then(|modified| modified.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_millis() as i64);
    Ok((uuid, created_ms))
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
