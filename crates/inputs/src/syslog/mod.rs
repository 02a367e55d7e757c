//! The syslog input: RFC 5424 and RFC 3164 messages over UDP (one per datagram), TCP and
//! TLS (RFC 5425; octet-counted or newline-framed, see [`framing`]), parsed as Filebeat's
//! syslog input parses them (see [`parse`]) and written to one data stream
//! (`logs-syslog-default`).

pub mod framing;
pub mod parse;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use logfleet_ingest::Event;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tracing::{info, warn};

use crate::batcher::Batcher;
use framing::{Frame, Framer};
use parse::ParseOptions;

/// Connections served at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 512;

/// What the syslog listeners share.
#[derive(Debug, Clone)]
pub struct Syslog {
    /// The data stream messages go to.
    pub index: Arc<str>,
    /// How messages are read.
    pub options: Arc<ParseOptions>,
    /// Messages cut at this many bytes.
    pub max_message_size: usize,
    /// Where events go.
    pub batcher: Batcher,
    /// Datagrams dropped because the writer was behind, reported now and then.
    dropped: Arc<AtomicU64>,
}

impl Syslog {
    /// The listeners' shared state.
    pub fn new(
        index: &str,
        options: ParseOptions,
        max_message_size: usize,
        batcher: Batcher,
    ) -> Syslog {
        Syslog {
            index: index.into(),
            options: Arc::new(options),
            max_message_size,
            batcher,
            dropped: Arc::default(),
        }
    }

    /// The event of one message from `peer`.
    pub fn event(&self, raw: &[u8], peer: SocketAddr, truncated: bool) -> Event {
        let text = String::from_utf8_lossy(raw);
        let mut document = parse::parse(&text, &self.options, jiff::Timestamp::now());
        document.insert(
            "log".into(),
            merge(
                document.get("log").cloned(),
                json!({"source": {"address": peer.to_string()}}),
            ),
        );
        document.insert("input".into(), json!({"type": "syslog"}));
        if truncated {
            document.insert("tags".into(), json!(["truncated"]));
        }
        Event {
            index: self.index.to_string(),
            source: Bytes::from(serde_json::to_vec(&Value::Object(document)).unwrap_or_default()),
        }
    }
}

fn merge(base: Option<Value>, extra: Value) -> Value {
    match (base, extra) {
        (Some(Value::Object(mut base)), Value::Object(extra)) => {
            base.extend(extra);
            Value::Object(base)
        }
        (_, extra) => extra,
    }
}

/// Receives datagrams on `socket` until `shutdown` says stop.
pub async fn serve_udp(socket: UdpSocket, syslog: Syslog, mut shutdown: watch::Receiver<bool>) {
    let mut buffer = vec![0_u8; 65_536];
    loop {
        let received = tokio::select! {
            received = socket.recv_from(&mut buffer) => received,
            _ = shutdown.changed() => return,
        };
        let (length, peer) = match received {
            Ok(received) => received,
            Err(error) => {
                warn!(%error, "syslog: receiving a datagram failed");
                continue;
            }
        };
        let truncated = length > syslog.max_message_size;
        let datagram = &buffer[..length.min(syslog.max_message_size)];
        let event = syslog.event(datagram, peer, truncated);
        if !syslog.batcher.try_send(event) {
            let dropped = syslog.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                warn!(
                    dropped,
                    "syslog: datagrams dropped because writing is behind"
                );
            }
        }
    }
}

/// How long a TLS client has to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS settings of a certificate chain and its private key, PEM files.
pub fn tls_acceptor(certificate: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(certificate)
        .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
        .map_err(|error| format!("reading the certificate {}: {error}", certificate.display()))?;
    if chain.is_empty() {
        return Err(format!("{} holds no certificate", certificate.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|error| format!("reading the private key {}: {error}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| format!("the certificate and key do not make a TLS identity: {error}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts connections on `listener` until `shutdown` says stop: plain TCP, or TLS with
/// `tls`.
pub async fn serve_stream(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    syslog: Syslog,
    shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut stop = shutdown.clone();
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                warn!(%error, "syslog: accepting a connection failed");
                continue;
            }
        };
        let (syslog, shutdown, tls) = (syslog.clone(), shutdown.clone(), tls.clone());
        tokio::spawn(async move {
            match tls {
                None => read_stream(stream, peer, &syslog, shutdown).await,
                Some(acceptor) => {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => read_stream(stream, peer, &syslog, shutdown).await,
                        Ok(Err(error)) => info!(%peer, %error, "syslog: TLS handshake failed"),
                        Err(_) => info!(%peer, "syslog: TLS handshake timed out"),
                    }
                }
            }
            drop(permit);
        });
    }
}

/// Reads one connection's messages until it closes.
async fn read_stream(
    mut stream: impl AsyncRead + Unpin,
    peer: SocketAddr,
    syslog: &Syslog,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut framer = Framer::new(syslog.max_message_size);
    let mut buffer = vec![0_u8; 64 * 1024];
    loop {
        let read = tokio::select! {
            read = stream.read(&mut buffer) => read,
            _ = shutdown.changed() => Ok(0),
        };
        let read = match read {
            Ok(read) => read,
            Err(error) => {
                info!(%peer, %error, "syslog: connection failed");
                0
            }
        };
        if read == 0 {
            if let Some(frame) = framer.finish() {
                send(syslog, frame, peer).await;
            }
            return;
        }
        framer.extend(&buffer[..read]);
        while let Some(frame) = framer.next_frame() {
            if !send(syslog, frame, peer).await {
                return;
            }
        }
    }
}

async fn send(syslog: &Syslog, frame: Frame, peer: SocketAddr) -> bool {
    let event = match frame {
        Frame::Message(message) => syslog.event(&message, peer, false),
        Frame::Truncated(message) => syslog.event(&message, peer, true),
    };
    syslog.batcher.send(event).await
}
