"""OpenLineage: a real run with the provider's listener and its file transport.

The run happens in a child process: the provider reads its configuration once per process,
and its listener forks the task process to emit, which is what a deployment does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator
from tests.conftest import ROOT, connection_json
from tests.lake import lake_rows

pytestmark = pytest.mark.usefixtures("airflow_db")

RUN = """
import sys
import pendulum
sys.path.insert(0, {dags!r})
from fansly_probe import build_dag

dag = build_dag(
    account_id={account!r}, media_offer_ids={ids!r}, output_path={lake!r},
    after_date="2026-03-01T00:00:00Z", before_date="2026-03-04T00:00:00Z",
    on_invalid="quarantine",
)
print("STATE", dag.test(logical_date=pendulum.datetime(2026, 3, 4, tz="UTC")).state)

from fansly_quality_probe import build_dag as quality_dag

checks = quality_dag(output_path={lake!r}, as_of="2026-03-04", expected={expected!r})
print("QUALITY", checks.test().state)
"""


def _lineage_run(emu: Emulator, tmp_path: Path, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Run the probe DAG, then the quality probe, with the file transport; return each task's
    COMPLETE event by task id."""
    events_file = tmp_path / "lineage.jsonl"
    env = {
        **os.environ,
        "AIRFLOW_CONN_FANSLY_DEFAULT": connection_json(emu.url),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events_file), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "fansly-tests",
    }
    expected = json.dumps({DEFAULT_ACCOUNT: ids})
    script = RUN.format(
        dags=str(ROOT / "tests" / "dags"),
        account=DEFAULT_ACCOUNT,
        ids=ids,
        lake=str(tmp_path),
        expected=expected,
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=240
    )
    assert "STATE success" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    assert "QUALITY success" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    events = [json.loads(line) for line in events_file.read_text().splitlines() if line]
    complete = [e for e in events if e["eventType"] == "COMPLETE"]
    return {e["job"]["name"].rsplit(".", 1)[-1]: e for e in complete}


def test_a_run_emits_api_to_table_lineage_with_schema_rows_and_assertions(
    emu: Emulator, tmp_path: Path
) -> None:
    emu.add_faults({"kind": "negative_counts", "media": "bad-1", "times": 100})
    events = _lineage_run(emu, tmp_path, ["ok-1", "bad-1"])
    event = events["fetch"]
    (source,) = event["inputs"]
    assert source["namespace"] == emu.url
    assert source["name"] == f"/api/fansly/{DEFAULT_ACCOUNT}/analytics/media"
    table, tags = event["outputs"]
    assert (table["namespace"], table["name"]) == ("file", str(tmp_path / "media_stats"))
    assert (tags["namespace"], tags["name"]) == ("file", str(tmp_path / "fyp_tags"))
    tag_columns = {f["name"]: f["type"] for f in tags["facets"]["schema"]["fields"]}
    assert tag_columns["tag_id"] == "string" and tag_columns["views"] == "int64"
    written = DeltaTable(str(tmp_path / "fyp_tags")).to_pyarrow_table().num_rows
    assert tags["outputFacets"]["outputStatistics"]["rowCount"] == written > 0
    columns = {f["name"]: f["type"] for f in table["facets"]["schema"]["fields"]}
    assert columns["views"] == "int64" and columns["dt"] == "date32[day]"
    assert table["facets"]["storage"]["storageLayer"] == "delta"
    rows = lake_rows(tmp_path)
    assert table["outputFacets"]["outputStatistics"]["rowCount"] == len(rows) > 0
    assert {r[0] for r in rows} == {"ok-1"}  # bad-1 was set apart (on_invalid="quarantine")
    assertions = {
        a["assertion"].split(" (")[0]: a["success"]
        for a in table["facets"]["dataQualityAssertions"]["assertions"]
    }
    # the quarantined media offer broke this rule; the rows written kept the others
    assert assertions["counts >= 0"] is False
    assert assertions["unique key"] is True
    assert assertions["bucket_start: bucket_start on the 86400000 ms UTC grid"] is True
    # the quality run: the table as input, one assertion per check, the results as output
    quality = events["quality"]
    (checked,) = quality["inputs"]
    assert (checked["namespace"], checked["name"]) == ("file", str(tmp_path / "media_stats"))
    verdicts = {
        a["assertion"]: a["success"]
        for a in checked["inputFacets"]["dataQualityAssertions"]["assertions"]
    }
    # bad-1 was never published: a young gap (a warning), so completeness did not pass
    assert verdicts.pop("completeness") is False
    assert verdicts == dict.fromkeys(verdicts, True) and len(verdicts) == 6
    metrics = checked["inputFacets"]["dataQualityMetrics"]
    assert metrics["rowCount"] == len(rows)
    assert metrics["columnMetrics"]["views"]["sum"] == sum(r[3] for r in rows)  # views
    (results,) = quality["outputs"]
    assert results["name"] == str(tmp_path / "quality_results")
