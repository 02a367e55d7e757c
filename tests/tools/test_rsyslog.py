"""rsyslog ships syslog lines to Logfleet with omelasticsearch.

rsyslogd runs in the foreground with a configuration of its own (no system inputs): an
imtcp input on a free port, a JSON template, and the usual bulk-mode action
    action(type="omelasticsearch" server=... serverport=... searchIndex=... bulkmode="on" ...)
Lines sent over TCP in RFC 3164 form must arrive as documents with the template's fields,
and nothing may land in the action's error file. `esVersion.major="8"` is what rsyslog
needs for Elasticsearch 8, which refuses the `_type` it otherwise puts in bulk actions.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

RSYSLOGD = shutil.which("rsyslogd") or next(
    (p for p in ("/usr/sbin/rsyslogd", "/sbin/rsyslogd") if os.access(p, os.X_OK)), None
)

INDEX = "rsyslog-events"
LINES = 25
ARRIVAL_TIMEOUT_S = 30


def omelasticsearch_module() -> Path | None:
    for root in ("/usr/lib", "/usr/lib64", "/usr/local/lib"):
        for path in Path(root).glob("**/rsyslog/omelasticsearch.so"):
            return path
    return None


@pytest.fixture
def rsyslogd():
    module = omelasticsearch_module()
    if RSYSLOGD is None or module is None:
        pytest.skip("rsyslogd or its omelasticsearch module is not installed (Debian: rsyslog "
                    "rsyslog-elasticsearch; scripts/tool-tests installs them when run as root)")
    return RSYSLOGD, module.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(tmp_path: Path, module_dir: Path, es_port: int, tcp_port: int) -> Path:
    work = tmp_path / "rsyslog-work"
    work.mkdir()
    conf = tmp_path / "rsyslog.conf"
    conf.write_text(f"""
global(workDirectory="{work}" maxMessageSize="64k")
module(load="{module_dir}/imtcp.so")
module(load="{module_dir}/omelasticsearch.so")

template(name="logfleet-json" type="list" option.jsonf="on") {{
  property(outname="@timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="host" name="hostname" format="jsonf")
  property(outname="program" name="programname" format="jsonf")
  property(outname="severity" name="syslogseverity-text" format="jsonf")
  property(outname="facility" name="syslogfacility-text" format="jsonf")
  property(outname="message" name="msg" format="jsonf")
}}

ruleset(name="ship") {{
  action(type="omelasticsearch"
         server="127.0.0.1"
         serverport="{es_port}"
         searchIndex="{INDEX}"
         template="logfleet-json"
         bulkmode="on"
         esVersion.major="8"
         errorFile="{tmp_path}/omelasticsearch-errors.json"
         queue.type="linkedlist"
         queue.dequeueBatchSize="100"
         action.resumeRetryCount="3")
}}

input(type="imtcp" address="127.0.0.1" port="{tcp_port}" ruleset="ship")
""")
    return conf


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"rsyslogd exited with {proc.returncode}: {proc.stdout.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"rsyslogd did not listen on {port} within {timeout}s")


def test_omelasticsearch_ships_tcp_syslog_lines(logfleet, rsyslogd, tmp_path):
    binary, module_dir = rsyslogd
    tcp_port = free_port()
    conf = write_config(tmp_path, module_dir, logfleet.port, tcp_port)
    check = subprocess.run([binary, "-N1", "-f", conf], capture_output=True, text=True, timeout=30, check=False)
    assert check.returncode == 0, f"rsyslogd rejected its configuration:\n{check.stdout}{check.stderr}"

    proc = subprocess.Popen(
        [binary, "-n", "-f", str(conf), "-i", str(tmp_path / "rsyslogd.pid")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
    )
    try:
        wait_for_port(tcp_port, proc)
        with socket.create_connection(("127.0.0.1", tcp_port), timeout=5) as conn:
            for n in range(LINES):
                severity = 3 if n % 5 == 0 else 6  # err or info
                pri = 16 * 8 + severity  # facility local0
                line = f"<{pri}>Dec  8 09:{n // 60:02d}:{n % 60:02d} web-01 checkout[4242]: order {n} \"processed\" \u00e9\n"
                conn.sendall(line.encode())

        deadline = time.monotonic() + ARRIVAL_TIMEOUT_S
        count = 0
        while time.monotonic() < deadline:
            status, answer = logfleet.request("GET", f"/{INDEX}/_count")
            count = answer["count"] if status == 200 else 0
            if count >= LINES or proc.poll() is not None:
                break
            time.sleep(0.5)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        output = proc.stdout.read() if proc.stdout else ""

    errors_file = tmp_path / "omelasticsearch-errors.json"
    errors = errors_file.read_text() if errors_file.exists() else ""
    assert count == LINES, (
        f"{count} of {LINES} lines arrived\n--- rsyslogd output ---\n{output[-4000:]}\n"
        f"--- omelasticsearch error file ---\n{errors[-4000:]}"
    )
    assert errors == "", errors[-4000:]

    logfleet.refresh(INDEX)
    hits = logfleet.search_all(INDEX)
    docs = sorted((hit["_source"] for hit in hits), key=lambda d: int(d["message"].split()[1]))
    # rsyslog's `msg` keeps the space that follows the tag, as it would into Elasticsearch.
    assert [d["message"] for d in docs] == [f" order {n} \"processed\" \u00e9" for n in range(LINES)]
    assert {d["host"] for d in docs} == {"web-01"}
    assert {d["program"] for d in docs} == {"checkout"}
    assert {d["facility"] for d in docs} == {"local0"}
    assert [d["severity"] for d in docs] == ["err" if n % 5 == 0 else "info" for n in range(LINES)]
    # RFC 3339 timestamps from the template are mapped as dates.
    mapping = logfleet.ok("GET", f"/{INDEX}/_mapping")[INDEX]["mappings"]["properties"]
    assert mapping["@timestamp"]["type"] == "date"
    errors_count = logfleet.ok("POST", f"/{INDEX}/_count", {"query": {"term": {"severity.keyword": "err"}}})
    assert errors_count["count"] == LINES // 5
