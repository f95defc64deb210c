"""Upgrading from 0.1: a plain-Parquet lake is refused, then ``fansly-lake convert`` converts it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fansly_probe import build_dag

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.coverage import coverage_gaps
from airflow_provider_fansly.exceptions import FanslyLegacyLakeError
from airflow_provider_fansly.storage.columns import ADDED_FIELDS, ROWS_SCHEMA
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.storage.maintenance import maintain
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator
from airflow_provider_fansly.testing.synthetic import expected_rows
from tests.conftest import LogText
from tests.lake import before_video, lake_rows, snapshot, truth

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
IDS = ["old1", "old2"]
MS = pa.timestamp("ms", tz="UTC")
#: The 0.1 files' schema: the columns before 0.5 added some, timestamps in milliseconds.
V01_SCHEMA = pa.schema(
    [
        f.with_type(MS) if pa.types.is_timestamp(f.type) else f
        for f in ROWS_SCHEMA
        if f.name not in {a.name for a in ADDED_FIELDS}
    ]
)

pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")


def write_v01_lake(root: Path, days: int) -> None:
    """A lake as 0.1 wrote it: one file per key and day, a manifest per key."""
    key = "0123456789abcdef"
    for day in range(days):
        after = D0 + day * DAY_MS
        rows = [
            {
                "account_id": DEFAULT_ACCOUNT,
                "media_offer_id": media,
                "bucket_start": r["bucket_start_ms"],
                "fetched_at": after,
                **{k: v for k, v in r.items() if k not in ("bucket_start_ms",)},
            }
            for media in IDS
            for r in expected_rows(DEFAULT_ACCOUNT, media, after, after + DAY_MS, DAY_MS)
        ]
        folder = (
            root
            / "media_stats"
            / f"period_ms={DAY_MS}"
            / f"dt={date(2026, 1, 1) + timedelta(days=day)}"
        )
        folder.mkdir(parents=True)
        pq.write_table(
            pa.Table.from_pylist(rows, schema=V01_SCHEMA), folder / f"part-{key}.parquet"
        )
    (root / "_keys").mkdir()
    (root / "_keys" / f"{key}.json").write_text(
        json.dumps({"account_id": DEFAULT_ACCOUNT, "media_offer_ids": IDS})
    )


def fansly_lake(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow_provider_fansly.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_v01_lake_is_refused_before_any_request_and_left_as_it_was(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText
) -> None:
    write_v01_lake(tmp_path, 3)
    before = snapshot(tmp_path)
    dr = build_dag(
        media_offer_ids=IDS, output_path=str(tmp_path), after_date=D0, before_date=D0 + DAY_MS
    ).test()
    assert dr.state == "failed"
    text = logs()
    assert "written by airflow-provider-fansly 0.1" in text
    assert f"fansly-lake convert '{tmp_path}'" in text
    assert fansly_conn.state.counts["requests"] == 0 and snapshot(tmp_path) == before
    with pytest.raises(FanslyLegacyLakeError, match="fansly-lake convert"):
        maintain(Location.parse(str(tmp_path)), compact_before=date(2030, 1, 1))
    assert snapshot(tmp_path) == before  # vacuum never ran over the old files


def test_convert_keeps_every_row_and_day_and_tasks_then_write_normally(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    write_v01_lake(tmp_path, 3)
    done = fansly_lake("convert", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "_legacy_v0/" in done.stdout
    converted = before_video(truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 3 * DAY_MS, DAY_MS))
    assert lake_rows(tmp_path) == converted
    first, last = date(2026, 1, 1), date(2026, 1, 3)
    assert coverage_gaps(str(tmp_path), {DEFAULT_ACCOUNT: IDS}, first, last) == []
    assert (tmp_path / "_legacy_v0" / "_keys").is_dir()  # the old files stay until deleted
    again = fansly_lake("convert", str(tmp_path))  # a second run (after a crash) is harmless
    assert again.returncode == 0, again.stderr[-2000:]
    assert lake_rows(tmp_path) == converted
    dr = build_dag(
        media_offer_ids=IDS,
        output_path=str(tmp_path),
        after_date=D0 + 2 * DAY_MS,
        before_date=D0 + 5 * DAY_MS,
    ).test()
    assert dr.state == "success"  # days 3-5 written again, with their video numbers
    kept = before_video(truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 2 * DAY_MS, DAY_MS))
    rewritten = truth(DEFAULT_ACCOUNT, IDS, D0 + 2 * DAY_MS, D0 + 5 * DAY_MS, DAY_MS)
    assert lake_rows(tmp_path) == sorted(kept + rewritten)
    history = fansly_lake("history", str(tmp_path))
    assert history.returncode == 0 and "WRITE" in history.stdout
    assert f"window=[{D0 + 2 * DAY_MS}, {D0 + 5 * DAY_MS})" in history.stdout


def test_convert_refuses_a_lake_with_nothing_to_convert(tmp_path: Path) -> None:
    done = fansly_lake("convert", str(tmp_path))
    assert done.returncode != 0 and "holds no 0.1 lake to convert" in done.stderr
