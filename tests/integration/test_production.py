"""The shipped DAGs on a production topology: PostgreSQL, Celery, an S3 lake, login.

PostgreSQL (Debian's, started here as its own user) is the metadata database and Celery's
result backend; Redis is the broker; two Celery workers run the tasks; the lake is on S3
(moto's server) through an Airflow AWS connection; the api-server requires a login and draws
the Fansly page from S3. The test fails if the metadata is not in PostgreSQL or the lake is
not on S3: it reads both there.

A deployment as a new user makes it: only the connections and the Variables exist (no pool),
the DAG files are copied as shipped and unpaused. The scheduler's own run fetches yesterday
(not months of catchup); a backfill of three days runs in mapped batches spread over two
Celery workers (which fork their task processes); the lake must hold every row exactly once,
and the quality DAG must run on the run-level alias: once per producing run. Last, the Fansly
page's command for a gap (a media offer the lake expects but the Variable left out) is run as
printed, and fetches just that media offer's day.
"""

from __future__ import annotations

import json
import shlex
import shutil
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import httpx
import psycopg2
import pytest

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, DEFAULT_KEY
from devtools.stack import (
    AirflowStack,
    connection_env,
    emulator_process,
    postgres_server,
    redis_server,
    s3_server,
)
from tests.conftest import ROOT
from tests.lake import days, lake_rows, table, truth

pytestmark = pytest.mark.integration
DAILY, QUALITY = "fansly_media_stats_daily", "fansly_media_stats_quality"
IDS = ["c1", "c2", "c3", "c4"]
LATE = "c5"  # expected by the page's lake configuration, left out of the DAG's Variable
TODAY = date.today()  # recent days: the quality DAG judges the history it expects as a whole
BUCKET, REGION = "fansly-lake", "us-east-1"
LAKE = f"s3://aws_lake@{BUCKET}/fansly"


def _aws(endpoint: str) -> tuple[str, dict[str, str]]:
    """The Airflow AWS connection the deployment gets (as JSON), and the same credentials as
    delta-rs storage options for the test's own reads."""
    extra = {"endpoint_url": endpoint, "region_name": REGION}
    conn = {"conn_type": "aws", "login": "lake-key", "password": "lake-secret", "extra": extra}
    options = {
        "AWS_ACCESS_KEY_ID": "lake-key",
        "AWS_SECRET_ACCESS_KEY": "lake-secret",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "AWS_ALLOW_HTTP": "true",
    }
    _s3(endpoint).create_bucket(Bucket=BUCKET)
    return json.dumps(conn), options


def _s3(endpoint: str) -> Any:
    """A boto3 S3 client with the lake's keys, for the test's own look at the bucket."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="lake-key",
        aws_secret_access_key="lake-secret",
    )


def _ms(day: date) -> int:
    """A UTC day's start in epoch milliseconds."""
    return int(datetime.combine(day, datetime.min.time(), timezone.utc).timestamp()) * 1000


def _metadata(database: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one query on the metadata database itself (PostgreSQL, not the API)."""
    with psycopg2.connect(database.replace("+psycopg2", "")) as con, con.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def _copy_dags(folder: Path) -> None:
    folder.mkdir()
    for dag_id in (DAILY, QUALITY):
        shutil.copy(ROOT / "dags" / f"{dag_id}.py", folder / f"{dag_id}.py")


def _fill_gap(stack: AirflowStack, emulator: str, day: str) -> list[dict[str, Any]]:
    """Run the page's command for one day's gap; return the requests it sent."""
    gap = stack.get(f"/fansly/api/gaps?account={DEFAULT_ACCOUNT}&day={day}")
    assert (gap["missing"], gap["gone"]) == ([LATE], [])
    sent = len(httpx.get(f"{emulator}/_emulator/stats", timeout=10).json()["log"])
    stack.airflow(*shlex.split(gap["command"])[1:])
    for _ in range(150):  # bounded: 5 minutes
        coverage = stack.get(f"/fansly/api/coverage?account={DEFAULT_ACCOUNT}")
        cell = next(c for c in coverage["accounts"][0]["cells"] if c["day"] == day)
        if cell["status"] == "covered":
            return list(httpx.get(f"{emulator}/_emulator/stats", timeout=10).json()["log"][sent:])
        time.sleep(2)
    raise TimeoutError(f"the gap of {day} was still open: {cell}")


# the time budget of the whole stack: about 4 minutes here, so a hang fails within 10
@pytest.mark.timeout(600)
def test_postgres_celery_and_an_s3_lake_land_a_backfill_exactly_and_judge_it_there(
    tmp_path: Path,
) -> None:
    # a backfill of 3 days, then the scheduled run (yesterday, 2 days of lookback), then a
    # manual run of the same 3 days: the lake holds 4 days, written over one another
    first, last = TODAY - timedelta(days=4), TODAY - timedelta(days=2)
    gap_day = str(TODAY - timedelta(days=3))
    dags = tmp_path / "dags"
    _copy_dags(dags)
    with (
        emulator_process() as url,
        redis_server() as broker,
        postgres_server() as database,
        s3_server() as endpoint,
    ):
        aws, options = _aws(endpoint)
        env = {
            "AIRFLOW_CONN_FANSLY_DEFAULT": connection_env(url, DEFAULT_KEY),
            "AIRFLOW_CONN_AWS_LAKE": aws,
            "AIRFLOW_VAR_FANSLY_ACCOUNT_ID": DEFAULT_ACCOUNT,
            "AIRFLOW_VAR_FANSLY_MEDIA_OFFER_IDS": json.dumps(IDS),
            "AIRFLOW_VAR_FANSLY_OUTPUT_PATH": LAKE,
            "AIRFLOW_VAR_FANSLY_BATCH_SIZE": "2",
            "FANSLY_START_DATE": "2026-01-01",
            "AIRFLOW_VAR_FANSLY_LAKES": json.dumps(
                {"prod": {"path": LAKE, "accounts": {DEFAULT_ACCOUNT: [*IDS, LATE]}}}
            ),
        }
        home = tmp_path / "home"
        users = {"admin": "admin"}
        with AirflowStack(home, dags, env, broker=broker, users=users, database=database) as stack:
            stack.prepare(pools={})
            stack.backfill(DAILY, first.isoformat(), last.isoformat())
            stack.start()
            stack.worker("w1")
            stack.worker("w2")
            stack.wait_for_runs(DAILY, 3, timeout=600)
            (scheduled,) = stack.wait_for_runs(DAILY, 1, timeout=300, run_type="scheduled")
            # quiet first, so that no quality run is being created when the next event lands
            stack.settled_runs(QUALITY, "asset_triggered", settle=10)
            manual = stack.trigger(DAILY, f"{TODAY}T00:00:00Z")
            stack.wait_for_runs(DAILY, 1, timeout=300, run_type="manual")
            quality = stack.caught_up(QUALITY, DAILY, manual)
            updates = [e for r in quality for e in stack.updates(QUALITY, r)]
            worker_logs = [
                (stack.home / "logs" / f"worker-{w}.log").read_text() for w in ("w1", "w2")
            ]
            filled = _fill_gap(stack, url, gap_day)
            coverage = stack.get(f"/fansly/api/coverage?account={DEFAULT_ACCOUNT}")
            cells = {c["day"]: c for c in coverage["accounts"][0]["cells"]}
            anonymous = httpx.get(f"{stack.url}/fansly/api/coverage", timeout=30).status_code
            runs = _metadata(database, f"select count(*) from dag_run where dag_id = '{DAILY}'")
            celery_results = _metadata(database, "select count(*) from celery_taskmeta")
            api_runs = len(stack.runs(DAILY))
            objects = _s3(endpoint).list_objects_v2(Bucket=BUCKET, Prefix="fansly/")
            lake = f"s3://{BUCKET}/fansly"
            stored = days(lake, DAY_MS, options=options)
            landed = lake_rows(lake, options=options)
            judged = table(lake, "quality_results", options=options).to_pylist()

    # the metadata lives in PostgreSQL: its dag_run table holds the runs the API showed, and
    # Celery's results went there too; the lake is on S3 and nowhere on disk
    assert runs == [(api_runs,)] and api_runs >= 5
    assert celery_results[0][0] > 0
    assert not list(tmp_path.rglob("_delta_log"))
    keys = [o["Key"] for o in objects.get("Contents", [])]
    assert any(k.startswith("fansly/media_stats/_delta_log/") for k in keys)
    # the page asks for a login, and reads the lake from S3: the filled day covered, the
    # backfill's other days held but for the media offer the DAG's Variable left out
    assert anonymous in (401, 403)
    assert cells[gap_day]["status"] == "covered"
    for day in (first, last, TODAY - timedelta(days=1)):
        cell = cells[str(day)]
        assert (cell["status"], cell["expected"], cell["fetched"]) == ("gap", 5, 4)

    # unpaused, the DAG's own run is the latest day only: yesterday, with its 2-day lookback
    assert scheduled["data_interval_start"][:10] == str(TODAY - timedelta(days=1))
    # every row once: the backfill's three days, the scheduled and manual runs' last three
    assert stored == [str(first + timedelta(days=i)) for i in range(4)]
    d0, gap = _ms(first), _ms(TODAY - timedelta(days=3))
    expected = truth(DEFAULT_ACCOUNT, IDS, d0, _ms(TODAY), DAY_MS) + truth(
        DEFAULT_ACCOUNT, [LATE], gap, gap + DAY_MS, DAY_MS
    )
    assert landed == sorted(expected)
    # the page's command asked for the missing media offer's day, nothing else (no credit
    # spent on what the lake held)
    assert [(r["media"], r["after"], r["before"]) for r in filled] == [(LATE, gap, gap + DAY_MS)]
    # both workers ran tasks
    assert all("fansly_media_stats_daily" in text for text in worker_logs)
    # quality ran on the run-level events only: one per producing run (3 backfill runs, the
    # scheduled one, the manual one), each consumed once, none per batch
    assert all(r["state"] == "success" for r in quality)
    assert sorted(e["source_run_id"].split("__")[0] for e in updates) == [
        "backfill", "backfill", "backfill", "manual", "scheduled",
    ]  # fmt: skip
    assert len({e["source_run_id"] for e in updates}) == 5
    # each quality run's findings landed in the lake's quality_results table, on S3
    assert {r["dag_run_id"] for r in quality} <= {r["run_id"] for r in judged}
    (last,) = [e for e in updates if e["source_run_id"] == manual]
    assert last["extra"]["batches"] == 2 and last["extra"]["media_offers"] == 4
    assert last["extra"]["days"] == [str(first + timedelta(days=i)) for i in range(1, 4)]
