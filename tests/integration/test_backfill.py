"""The demo script, as a new user runs it: a real backfill through Airflow (LocalExecutor)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_fansly.windows import DAY_MS
from tests.conftest import ROOT
from tests.lake import days

pytestmark = pytest.mark.integration


def test_the_demo_runs_to_completion_in_a_scratch_directory(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "demo.py"),
            "--days",
            "3",
            "--workdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "3/3 runs succeeded" in done.stdout
    assert re.search(r"quality DAG: ([1-4])/\1 run\(s\) succeeded", done.stdout), done.stdout
    assert "3 day(s) landed for 5 media offers; coverage gaps: 0" in done.stdout
    assert (tmp_path / "daily_views.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(days(tmp_path / "lake", DAY_MS)) == 3
    # one commit per task: the history lists each backfill run's write with its run id
    assert "newest versions (fansly-lake history)" in done.stdout
    assert done.stdout.count("run_id=backfill__") == 3
