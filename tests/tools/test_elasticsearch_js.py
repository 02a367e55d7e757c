"""The official JavaScript client (@elastic/elasticsearch 9, from npm) against Logfleet.

tests/tools/js/elasticsearch_client.mjs runs the calls (index creation with settings, the
bulk helper, search, get, mget, optimistic concurrency, update, update by query, settings,
stats, cluster settings, errors) and names the step that fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

TOOLS_DIR = Path(os.environ.get("LOGFLEET_TOOLS_DIR", Path.home() / ".cache" / "logfleet-tools"))
SCRIPT = Path(__file__).resolve().parent / "js" / "elasticsearch_client.mjs"


def test_the_javascript_client_end_to_end(logfleet):
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not (TOOLS_DIR / "node_modules" / "@elastic" / "elasticsearch" / "package.json").exists():
        pytest.skip(f"@elastic/elasticsearch is not installed in {TOOLS_DIR} (scripts/tool-tests installs it)")
    run = subprocess.run(
        ["node", str(SCRIPT), logfleet.url],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "LOGFLEET_TOOLS_DIR": str(TOOLS_DIR)},
        check=False,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    steps = json.loads(run.stdout.strip().splitlines()[-1])["steps"]
    assert steps[-1] == "delete the index", steps
