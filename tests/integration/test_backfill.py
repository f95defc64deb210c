"""The demo script, as a new user runs it: a real backfill through Airflow (LocalExecutor)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_fansly.client.windows import DAY_MS
from tests.conftest import ROOT
from tests.lake import days

pytestmark = pytest.mark.integration


@pytest.mark.timeout(900)  # about 2.5 min alone, near 4 beside the rest on two workers
def test_the_demo_runs_to_completion_in_a_scratch_directory(tmp_path: Path) -> None:
    demo = [sys.executable, str(ROOT / "scripts" / "demo.py"), "--days", "9"]
    done = subprocess.run(
        [*demo, "--workdir", str(tmp_path)], capture_output=True, text=True, timeout=900
    )
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    assert "9/9 runs succeeded" in out
    assert re.search(r"quality DAG: (\d+)/\1 run\(s\) succeeded", out), out
    assert "9 day(s) landed for 11 media offers; coverage gaps: 0" in out
    assert (tmp_path / "daily_views.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(days(tmp_path / "lake", DAY_MS)) == 9
    # the newest quality run names one planted anomaly of each kind (warnings: it passes)
    quality = out[out.index("The newest quality run") :]
    for finding in (
        "WARNED  completeness     [fansly_demo / deleted-media]",
        "WARNED  volume_anomaly   [fansly_demo / ",
        "WARNED  hourly_vs_daily  [fansly_demo / split-",
        "WARNED  restatement      [fansly_demo / ",
    ):
        assert finding in quality, quality
    assert "passed: freshness, invariants, uniqueness" in quality
    # one commit per task: the history lists the runs' writes with their run ids
    assert "newest versions (fansly-lake history)" in out
    assert "run_id=" in out
    # the Fansly page: login required, the calendar (deleted-media went away on the first
    # day), the quality findings and the credits, and the viewer's screenshot
    assert "without logging in: the page 303 (to the login), the API 401" in out
    assert "calendar of fansly_demo: 8 covered, 1 gone, 1 not_due" in out
    assert re.search(r"quality, period 86400000 ms: completeness warned, .*restatement warned", out)
    assert re.search(r"credits in \d{4}-\d{2}: \d+ spent of 5000", out)
    assert (tmp_path / "fansly-page.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
