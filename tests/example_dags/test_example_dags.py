"""The example DAGs: they load, and each runs end to end through dag.test()."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pendulum
import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import DAG

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator
from devtools.stack import free_port
from tests.conftest import ROOT, LogText
from tests.lake import days, lake_rows, truth

pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")
IDS = ["m1", "m2", "m3"]


@pytest.fixture
def dagbag() -> DagBag:
    """Fresh DAG objects per test: dag.test(run_conf=...) leaves params on the DAG object."""
    return DagBag(dag_folder=str(ROOT / "dags"))


@pytest.fixture
def variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_ACCOUNT_ID", DEFAULT_ACCOUNT)
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_MEDIA_OFFER_IDS", json.dumps(IDS))
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_OUTPUT_PATH", str(tmp_path))
    return tmp_path


def run(dag: DAG, logical: date, **kwargs: Any) -> Any:
    return dag.test(
        logical_date=pendulum.datetime(logical.year, logical.month, logical.day, tz="UTC"), **kwargs
    )


def run_at(dag: DAG, day: date, hour: int) -> Any:
    """A run of a DAG at a time of day, as its cron trigger would start it."""
    return dag.test(logical_date=pendulum.datetime(day.year, day.month, day.day, hour, tz="UTC"))


def ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() * 1000)


def test_the_dags_folder_loads_without_errors(dagbag: DagBag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {
        "fansly_media_stats_daily",
        "fansly_media_stats_hourly",
        "fansly_media_stats_agency",
        "fansly_media_stats_planned",
        "fansly_media_stats_quality",
        "fansly_lake_maintenance",
    }
    daily = dagbag.get_dag("fansly_media_stats_daily")
    assert type(daily.timetable).__name__ == "CronDataIntervalTimetable"
    assert not daily.catchup and daily.max_active_runs == 4
    for dag_id in dagbag.dag_ids:
        module = ROOT / "dags" / f"{dag_id}.py"
        assert module.read_text().startswith('"""'), f"{module} needs a module docstring"


def test_parsing_reads_no_variables(dagbag: DagBag, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FANSLY_ACCOUNT_ID", "FANSLY_MEDIA_OFFER_IDS", "FANSLY_OUTPUT_PATH"):
        monkeypatch.delenv(f"AIRFLOW_VAR_{name}", raising=False)
    assert DagBag(dag_folder=str(ROOT / "dags")).import_errors == {}


def test_daily_dag_fetches_its_day_and_the_lookback(dagbag: DagBag, variables: Path) -> None:
    day = date(2026, 3, 10)
    dr = run(dagbag.get_dag("fansly_media_stats_daily"), day)
    assert dr.state == "success"
    # a manual run at D gets the interval that ends at D, [D-1, D), plus the 2-day lookback
    assert days(variables, DAY_MS) == ["2026-03-07", "2026-03-08", "2026-03-09"]
    assert lake_rows(variables) == truth(
        DEFAULT_ACCOUNT, IDS, ms(day) - 3 * DAY_MS, ms(day), DAY_MS
    )


def test_daily_dag_params_override_the_variables(
    dagbag: DagBag, variables: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    dr = run(
        dagbag.get_dag("fansly_media_stats_daily"),
        date(2026, 3, 10),
        run_conf={"media_offer_ids": ["x9"], "output_path": str(other)},
    )
    assert dr.state == "success"
    assert {r[0] for r in lake_rows(other)} == {"x9"}


def test_hourly_dag_lands_24_hourly_buckets_per_day(
    dagbag: DagBag, variables: Path, fansly_conn: Emulator
) -> None:
    day = date(2026, 3, 10)
    assert run(dagbag.get_dag("fansly_media_stats_hourly"), day).state == "success"
    assert lake_rows(variables, HOUR_MS) == truth(
        DEFAULT_ACCOUNT, IDS, ms(day) - DAY_MS, ms(day), HOUR_MS
    )
    assert fansly_conn.state.counts["requests"] == len(IDS)


def test_agency_dag_covers_every_account(
    dagbag: DagBag, variables: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = {DEFAULT_ACCOUNT: ["m1", "m2"], "fansly_agency_2": ["a1"]}
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_ACCOUNTS", json.dumps(accounts))
    day = date(2026, 3, 10)
    assert run(dagbag.get_dag("fansly_media_stats_agency"), day).state == "success"
    rows = lake_rows(variables)
    expected = sorted(
        truth(DEFAULT_ACCOUNT, ["m1", "m2"], ms(day) - 3 * DAY_MS, ms(day), DAY_MS)
        + truth("fansly_agency_2", ["a1"], ms(day) - 3 * DAY_MS, ms(day), DAY_MS)
    )
    assert rows == expected


def test_quality_dag_passes_on_what_was_fetched_and_fails_on_an_old_gap(
    dagbag: DagBag, variables: Path, monkeypatch: pytest.MonkeyPatch, logs: LogText
) -> None:
    daily, quality = (
        dagbag.get_dag(d) for d in ("fansly_media_stats_daily", "fansly_media_stats_quality")
    )
    # the run at today fetches yesterday and, with its lookback, the two days before
    assert run(daily, date.today()).state == "success"
    assert quality.test().state == "success"
    assert "PASSED  completeness" in logs()
    # a run a week earlier leaves days -7..-4 never fetched: gaps older than 3 days
    assert run(daily, date.today() - timedelta(days=7)).state == "success"
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_ACCOUNTS", json.dumps({DEFAULT_ACCOUNT: IDS}))
    assert quality.test().state == "failed"
    text = logs()
    oldest = date.today() - timedelta(days=7)
    assert f"FAILED  completeness [{DEFAULT_ACCOUNT} / {oldest}]" in text
    assert "3 media offer(s) never fetched for this day, 7 day(s) ago" in text


def test_a_batch_whose_media_offers_are_all_gone_succeeds_beside_a_healthy_one(
    dagbag: DagBag, variables: Path, fansly_conn: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A creator deleted her oldest posts: the sorted ids cut them into one batch of their
    own. That batch records them gone and succeeds, so the run's update still fires."""
    ids = ["a1", "a2", "b1", "b2"]
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_MEDIA_OFFER_IDS", json.dumps(ids))
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_BATCH_SIZE", "2")
    fansly_conn.config.deleted_media = {"a1", "a2"}
    day = date(2026, 3, 10)
    dr = run(dagbag.get_dag("fansly_media_stats_daily"), day)
    assert dr.state == "success"
    states = {(ti.task_id, ti.map_index): ti.state for ti in dr.get_task_instances()}
    assert states == {
        ("media_offer_batches", -1): "success",
        ("media_stats", 0): "success",
        ("media_stats", 1): "success",
        ("lake_updated", -1): "success",
    }
    after = ms(day) - 3 * DAY_MS
    assert lake_rows(variables) == truth(DEFAULT_ACCOUNT, ["b1", "b2"], after, ms(day), DAY_MS)
    updated = dr.get_task_instances()[-1].xcom_pull(task_ids="lake_updated")
    (extra,) = updated.values()
    assert extra["gone"] == ["a1", "a2"] and extra["batches"] == 2


def test_silence_fails_the_daily_quality_run_and_still_does_four_weeks_later(
    dagbag: DagBag, variables: Path, logs: LogText
) -> None:
    """Fetching stops after one day. No update triggers the quality DAG then, but its daily
    time does: past the freshness threshold that run fails, naming the account and the newest
    day fetched; four weeks later, the history window empty, it still fails the same way."""
    from airflow.sdk import AssetOrTimeSchedule

    from airflow_provider_fansly.assets import MEDIA_STATS_UPDATED

    daily, quality = (
        dagbag.get_dag(d) for d in ("fansly_media_stats_daily", "fansly_media_stats_quality")
    )
    # the quality DAG runs on the fetching DAGs' updates *or* at a time of day
    assert isinstance(quality.timetable, AssetOrTimeSchedule)
    assert list(quality.timetable.asset_condition.objects) == [MEDIA_STATS_UPDATED]
    assert quality.timetable.timetable.expression == "0 6 * * *"
    day = date(2026, 3, 10)
    assert run(daily, day).state == "success"  # fetches 03-07 .. 03-09; then fetching stops
    at_six = {"hour": 6}
    assert run_at(quality, day + timedelta(days=1), **at_six).state == "success"
    assert "PASSED  freshness" in logs()
    for later in (5, 33):  # past the 2-day threshold; then four weeks after that
        dr = run_at(quality, day + timedelta(days=later), **at_six)
        assert dr.state == "failed"
        text = logs()
        assert (
            f"FAILED  freshness [{DEFAULT_ACCOUNT}]: the newest day fetched is 2026-03-09: "
            f"{later} day(s) behind {day + timedelta(days=later - 1)}"
        ) in text
        # every media offer is still expected: the gaps are reported, not forgotten
        gap = day + timedelta(days=later - 5)
        assert f"FAILED  completeness [{DEFAULT_ACCOUNT} / {gap}]" in text
        assert "3 media offer(s) never fetched for this day" in text
        # the task's failure names both checks and the newest day: what an alert shows first
        assert f"freshness [{DEFAULT_ACCOUNT}]: the newest day fetched is 2026-03-09" in text
        assert "quality finding(s) failed: completeness [" in text


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(message_from_bytes(envelope.content, policy=default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A real SMTP server on loopback, and the connection and Variable that send alerts to it."""
    from aiosmtpd.controller import Controller

    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    extra = {"disable_ssl": True, "disable_tls": True, "from_email": "airflow@example.com"}
    conn = {"conn_type": "smtp", "host": "127.0.0.1", "port": port, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_ALERTS", json.dumps(conn))
    alerts = {"to": ["oncall@example.com"], "smtp_conn_id": "smtp_alerts", "on_warnings": True}
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_ALERTS", json.dumps(alerts))
    yield handler
    controller.stop()


def test_a_failed_quality_run_mails_its_findings_the_lake_and_the_page(
    dagbag: DagBag, variables: Path, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Configured by a connection and a Variable only: a clean run sends nothing, a run with
    a young gap (a warning) sends a warning, a run with an old gap sends the failure with the
    whole report read back from the lake."""
    daily, quality = (
        dagbag.get_dag(d) for d in ("fansly_media_stats_daily", "fansly_media_stats_quality")
    )
    day = date(2026, 3, 10)
    assert run(daily, day).state == "success"  # 03-07 .. 03-09
    assert run_at(quality, day, hour=6).state == "success"
    assert inbox.mails == []  # nothing to tell
    # a week later: 03-10 .. 03-16 never fetched; 03-13 and older are errors
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_ACCOUNTS", json.dumps({DEFAULT_ACCOUNT: IDS}))
    assert run_at(quality, day + timedelta(days=7), hour=6).state == "failed"
    (mail,) = inbox.mails
    subject, body = str(mail["Subject"]), mail.get_body().get_content()  # type: ignore[union-attr]
    assert mail["To"] == "oncall@example.com"
    assert subject.startswith("[Fansly quality] fansly_media_stats_quality.daily failed: ")
    assert str(variables) in subject
    assert f"FAILED  completeness [{DEFAULT_ACCOUNT} / 2026-03-10]" in body
    assert f"FAILED  freshness [{DEFAULT_ACCOUNT}]: the newest day fetched is 2026-03-09" in body
    assert "WARNED  completeness" in body  # the young gaps, in the same report
    assert "/fansly/?path=" in body and f"{variables}/quality_results" in body
    assert "Error: " in body and "quality finding(s) failed" in body
    # fetched again up to 03-12, judged on 03-15: fresh, and the two young gaps only warn
    inbox.mails.clear()
    assert run(daily, day + timedelta(days=3)).state == "success"  # 03-10 .. 03-12
    assert run_at(quality, day + timedelta(days=5), hour=6).state == "success"  # 03-13, 03-14
    (warning,) = inbox.mails
    assert " warned: 0 failed, " in str(warning["Subject"])
    assert "WARNED  completeness [fansly_demo / 2026-03-13]" in warning.get_body().get_content()  # type: ignore[union-attr]
