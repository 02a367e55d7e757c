//! The web UI: a single-page application built from `ui/` (see `ui/build.mjs`), served at
//! `/_ui/`.
//!
//! Assets are named after a hash of their content (`assets/main-3KX7Q2.js`), so they are
//! cached for a year, and sent pre-compressed (brotli or gzip, as the browser accepts).
//! Any other path under `/_ui/` is a route of the application and gets `index.html`, which
//! is never cached, so that a new build is picked up on the next visit. Every UI response
//! carries a strict Content-Security-Policy: scripts, styles and requests from this origin
//! only, no inline script and no `eval`. It is the second line of defence; the first is that
//! the UI renders every string from a log as text.

use std::path::{Component, Path, PathBuf};

use axum::extract::State;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// What every UI response is allowed to do.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// One file of the built UI, with its pre-compressed forms.
#[derive(Debug, Clone, Copy)]
pub struct UiAsset {
    /// Its path below `/_ui/`: `index.html`, `assets/main-3KX7Q2.js`.
    pub path: &'static str,
    /// The file itself.
    pub identity: &'static [u8],
    /// Compressed with gzip, if the build made it.
    pub gzip: Option<&'static [u8]>,
    /// Compressed with brotli, if the build made it.
    pub brotli: Option<&'static [u8]>,
}

/// Where the UI's files come from.
#[derive(Debug, Clone)]
pub enum UiSource {
    /// Built into the binary (empty when it was built without Node.js: the UI's address
    /// then says how to build it).
    Embedded(&'static [UiAsset]),
    /// Read from a build directory at each request, for working on the UI without
    /// rebuilding the binary.
    Directory(PathBuf),
}

impl Default for UiSource {
    fn default() -> Self {
        UiSource::Embedded(&[])
    }
}

/// `GET /_ui/` and everything below it.
pub async fn serve(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let relative = uri
        .path()
        .strip_prefix("/_ui")
        .unwrap_or_default()
        .trim_start_matches('/');
    let is_asset = relative.starts_with("assets/");
    let encodings = AcceptedEncodings::from(&headers);
    let found = match &state.config.ui {
        UiSource::Embedded(assets) => {
            let wanted = if is_asset { relative } else { "index.html" };
            assets
                .iter()
                .find(|asset| asset.path == wanted)
                .map(|asset| pick_embedded(asset, encodings))
        }
        UiSource::Directory(dir) => {
            let wanted = if is_asset { relative } else { "index.html" };
            let (dir, wanted) = (dir.clone(), wanted.to_owned());
            tokio::task::spawn_blocking(move || read_from_directory(&dir, &wanted, encodings))
                .await
                .ok()
                .flatten()
        }
    };
    match found {
        Some((body, encoding)) => {
            let name = if is_asset { relative } else { "index.html" };
            ui_response(StatusCode::OK, name, body, encoding, is_asset)
        }
        None if is_asset => ui_response(
            StatusCode::NOT_FOUND,
            "missing.txt",
            b"no such asset in this build of the web UI\n".to_vec(),
            None,
            false,
        ),
        None => {
            let page = match &state.config.ui {
                UiSource::Embedded(_) => NOT_BUILT_PAGE.to_owned(),
                UiSource::Directory(dir) => not_built_in_page(dir),
            };
            ui_response(StatusCode::OK, "index.html", page.into_bytes(), None, false)
        }
    }
}

/// Shown at `/_ui/` when `ui_dir` names a directory without a build.
fn not_built_in_page(dir: &Path) -> String {
    let dir = dir.display().to_string();
    // The path is the operator's own configuration, but it is still escaped as text.
    let dir = dir
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Logfleet: the \
         web UI is not built</title></head>\n<body>\n<h1>No web UI build in {dir}</h1>\n<p>The \
         configuration's <code>ui_dir</code> names <code>{dir}</code>, which holds no \
         <code>index.html</code>. Build the UI there first: <code>cd ui &amp;&amp; npm ci \
         &amp;&amp; npm run build</code>.</p>\n</body>\n</html>\n"
    )
}

/// Shown at `/_ui/` by a binary built without Node.js.
const NOT_BUILT_PAGE: &str = "<!doctype html>
<html lang=\"en\">
<head><meta charset=\"utf-8\"><title>Logfleet: the web UI is not built</title></head>
<body>
<h1>The web UI is not part of this build</h1>
<p>This <code>logfleet</code> binary was built on a machine without Node.js, so the web UI
was left out. Everything else works: the Elasticsearch API answers at this address.</p>
<p>To get the UI, install Node.js 20 or newer with npm, then build again from the repository
root: <code>cargo build --release</code> builds <code>ui/</code> as well. To build the UI on
its own: <code>cd ui &amp;&amp; npm ci &amp;&amp; npm run build</code>, then rebuild the binary,
or start it with <code>ui_dir = \"ui/dist\"</code> in its configuration.</p>
</body>
</html>
";

/// Which compressed forms the browser takes (`Accept-Encoding`).
#[derive(Debug, Clone, Copy, Default)]
struct AcceptedEncodings {
    brotli: bool,
    gzip: bool,
}

impl From<&HeaderMap> for AcceptedEncodings {
    fn from(headers: &HeaderMap) -> Self {
        let mut accepted = AcceptedEncodings::default();
        let values = headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|value| value.to_str().ok());
        for coding in values.flat_map(|value| value.split(',')) {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|parameter| {
                parameter
                    .trim()
                    .strip_prefix("q=")
                    .and_then(|quality| quality.trim().parse::<f32>().ok())
                    .is_some_and(|quality| quality == 0.0)
            });
            match name {
                "br" => accepted.brotli = !refused,
                "gzip" => accepted.gzip = !refused,
                _ => {}
            }
        }
        accepted
    }
}

fn pick_embedded(asset: &UiAsset, encodings: AcceptedEncodings) -> (Vec<u8>, Option<&'static str>) {
    if encodings.brotli
        && let Some(brotli) = asset.brotli
    {
        return (brotli.to_vec(), Some("br"));
    }
    if encodings.gzip
        && let Some(gzip) = asset.gzip
    {
        return (gzip.to_vec(), Some("gzip"));
    }
    (asset.identity.to_vec(), None)
}

/// Reads `relative` (and its pre-compressed sibling) below `dir`. Only plain relative paths
/// are looked up: nothing outside `dir` can be named.
fn read_from_directory(
    dir: &Path,
    relative: &str,
    encodings: AcceptedEncodings,
) -> Option<(Vec<u8>, Option<&'static str>)> {
    let relative = Path::new(relative);
    let plain = relative
        .components()
        .all(|component| matches!(component, Component::Normal(_)));
    if !plain {
        return None;
    }
    let path = dir.join(relative);
    let candidates = [
        (encodings.brotli, "br", "br"),
        (encodings.gzip, "gz", "gzip"),
    ];
    for (accepted, extension, encoding) in candidates {
        if !accepted {
            continue;
        }
        let mut compressed = path.clone().into_os_string();
        compressed.push(".");
        compressed.push(extension);
        if let Ok(bytes) = std::fs::read(&compressed) {
            return Some((bytes, Some(encoding)));
        }
    }
    std::fs::read(&path).ok().map(|bytes| (bytes, None))
}

fn ui_response(
    status: StatusCode,
    name: &str,
    body: Vec<u8>,
    encoding: Option<&'static str>,
    immutable: bool,
) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The media type of a UI file, by its extension.
fn content_type(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map_or("", |(_, extension)| extension);
    match extension {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Whether a request to `GET /` comes from a browser, which is sent to the UI rather than
/// shown Elasticsearch's JSON (clients ask for JSON or for anything).
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(value: &str) -> AcceptedEncodings {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        AcceptedEncodings::from(&headers)
    }

    #[test]
    fn encodings_follow_accept_encoding_including_refusals() {
        let both = accepting("gzip, deflate, br, zstd");
        assert!(both.brotli && both.gzip);
        let no_brotli = accepting("gzip;q=1.0, br;q=0");
        assert!(!no_brotli.brotli && no_brotli.gzip);
        let none = AcceptedEncodings::from(&HeaderMap::new());
        assert!(!none.brotli && !none.gzip);
    }

    #[test]
    fn a_build_directory_cannot_be_left() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<p>ui</p>").unwrap();
        let inside = read_from_directory(dir.path(), "index.html", AcceptedEncodings::default());
        assert_eq!(inside.unwrap().0, b"<p>ui</p>");
        for outside in ["../index.html", "/etc/passwd", "assets/../../x"] {
            let read = read_from_directory(dir.path(), outside, AcceptedEncodings::default());
            assert!(read.is_none(), "{outside}");
        }
    }
}
