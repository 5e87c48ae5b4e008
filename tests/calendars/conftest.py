"""Feed-reading helpers shared by the calendar tests."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parents[1] / "js"


@pytest.fixture
def icaljs(tmp_path):
    if shutil.which("node") is None or not (JS / "node_modules" / "ical.js").exists():
        pytest.skip("ical.js checks need node and `npm ci` in tests/js (make test does it)")

    def parse(data: bytes) -> list[dict]:
        path = tmp_path / "feed.ics"
        path.write_bytes(data)
        result = subprocess.run(
            ["node", str(JS / "parse_feed.mjs"), str(path)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    return parse
