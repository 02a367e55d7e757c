"""A recording HTTP proxy between a third-party tool and Logfleet.

The tools under test talk to Logfleet through it, so that a failing test can show which
requests Logfleet answered with an error, or with something the tool did not expect:
method, path and query, request body, status and answer, in order. Each request is
forwarded on a fresh upstream connection; the answer is buffered and sent back whole
(with its own Content-Length), which every HTTP/1.1 client accepts. Standard library only.
"""

from __future__ import annotations

import gzip
import http.client
import http.server
import threading
import zlib
from dataclasses import dataclass

# Headers that describe one hop, not the message: never forwarded.
HOP_HEADERS = {
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
    "upgrade", "expect",
}
BODY_EXCERPT_CHARS = 1500


@dataclass
class Exchange:
    method: str
    target: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes

    def describe(self, limit: int = BODY_EXCERPT_CHARS) -> str:
        lines = [f"{self.method} {self.target}"]
        content_type = self.request_headers.get("content-type")
        if content_type:
            lines.append(f"  content-type: {content_type}")
        request = _decoded(self.request_body, self.request_headers)
        if request:
            lines.append(f"  body: {_excerpt(request, limit)}")
        lines.append(f"  -> {self.status} {_excerpt(_decoded(self.response_body, self.response_headers), limit)}")
        return "\n".join(lines)


def _decoded(body: bytes, headers: dict[str, str]) -> str:
    encoding = headers.get("content-encoding", "").lower()
    try:
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
    except (OSError, zlib.error):
        pass
    return body.decode("utf-8", errors="replace")


def _excerpt(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + f"... <{len(text)} chars>"


class RecordingProxy:
    """Listens on 127.0.0.1:<free port> and forwards everything to `upstream_port`."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def _forward(self):
                body = self._read_body()
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
                headers["Content-Length"] = str(len(body))
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=120)
                try:
                    upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                    for name, value in headers.items():
                        upstream.putheader(name, value)
                    upstream.endheaders(body)
                    response = upstream.getresponse()
                    answer = response.read()
                    status, reason = response.status, response.reason
                    response_headers = [
                        (k, v) for k, v in response.getheaders() if k.lower() not in HOP_HEADERS
                    ]
                finally:
                    upstream.close()
                proxy._record(Exchange(
                    method=self.command,
                    target=self.path,
                    request_headers={k.lower(): v for k, v in headers.items()},
                    request_body=body,
                    status=status,
                    response_headers={k.lower(): v for k, v in response_headers},
                    response_body=answer,
                ))
                self.send_response(status, reason)
                for name, value in response_headers:
                    # A HEAD answer keeps the upstream's Content-Length: the size a GET would have.
                    if name.lower() == "content-length" and self.command != "HEAD":
                        continue
                    self.send_header(name, value)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer)

            def _read_body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _forward

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> RecordingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def errors(self) -> list[Exchange]:
        """The exchanges Logfleet answered with a status of 400 or more, in order."""
        with self._lock:
            return [e for e in self.exchanges if e.status >= 400]

    def transcript(self, limit: int = BODY_EXCERPT_CHARS) -> str:
        with self._lock:
            return "\n".join(e.describe(limit) for e in self.exchanges)
