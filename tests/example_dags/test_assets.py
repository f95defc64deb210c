"""The example DAGs as the scheduler sees them: outlets, a safe first day, and asset events."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pendulum
import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import CronDataIntervalTimetable
from airflow.serialization.serialized_objects import DagSerialization

from airflow_provider_fansly.assets import MEDIA_STATS, MEDIA_STATS_UPDATED
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT
from tests.conftest import ROOT, LogText

pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")
FETCHING = ("fansly_media_stats_daily", "fansly_media_stats_hourly", "fansly_media_stats_agency")


@pytest.fixture(scope="module")
def serialized() -> dict[str, dict[str, Any]]:
    """Each example DAG as the DAG processor stores it (mapped tasks included)."""
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    return {
        dag_id: DagSerialization.serialize_dag(bag.get_dag(dag_id))  # type: ignore[arg-type]
        for dag_id in bag.dag_ids
    }


def _task(dag: dict[str, Any], task_id: str) -> dict[str, Any]:
    tasks = [t["__var"] for t in dag["tasks"]]
    return next(t for t in tasks if t["task_id"] == task_id)


def _alias_names(task: dict[str, Any]) -> set[str]:
    """Names of the asset aliases a serialized task declares as outlets."""
    return {
        o["__var"]["name"]
        for o in task.get("outlets", []) + task.get("partial_kwargs", {}).get("outlets", [])
        if o["__type"] == "asset_alias"
    }


@pytest.mark.parametrize("dag_id", FETCHING)
def test_the_mapped_fetch_declares_its_alias_and_the_run_its_update(
    serialized: dict[str, dict[str, Any]], dag_id: str
) -> None:
    dag = serialized[dag_id]
    fetch = _task(dag, "media_stats")
    assert fetch.get("_is_mapped"), "the example maps its fetch task"
    assert _alias_names(fetch) == {MEDIA_STATS.name}
    updated = _task(dag, "lake_updated")
    assert _alias_names(updated) == {MEDIA_STATS_UPDATED.name, MEDIA_STATS.name}
    assert updated["max_active_tis_per_dag"] == 1  # the first link of a new lake, one at a time
    assert "lake_updated" in fetch["downstream_task_ids"]


def test_the_quality_dag_is_scheduled_on_the_run_level_alias(
    serialized: dict[str, dict[str, Any]],
) -> None:
    schedule = json.dumps(serialized["fansly_media_stats_quality"]["timetable"])
    assert MEDIA_STATS_UPDATED.name in schedule
    assert f'"{MEDIA_STATS.name}"' not in schedule


@pytest.mark.parametrize("dag_id", FETCHING)
def test_a_copied_dag_starts_no_catchup_needs_no_pool_and_times_out(dag_id: str) -> None:
    dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag(dag_id)
    assert dag is not None and not dag.catchup
    for task in dag.tasks:
        assert task.pool == "default_pool", f"{task.task_id} must not need a pool by default"
    fetch = dag.get_task("media_stats")
    assert fetch.partial_kwargs["execution_timeout"] is not None  # type: ignore[attr-defined]
    assert fetch.partial_kwargs["max_active_tis_per_dag"] == 4  # type: ignore[attr-defined]


def test_fansly_pool_moves_the_fetch_tasks_into_a_deployment_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FANSLY_POOL", "fansly_api")
    dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag("fansly_media_stats_daily")
    assert dag is not None
    assert dag.get_task("media_stats").pool == "fansly_api"
    assert dag.get_task("media_offer_batches").pool == "default_pool"


_TIMETABLE = re.compile(r"CronDataIntervalTimetable\([^()]*\)")


def test_every_suggested_timetable_builds() -> None:
    """Each ``CronDataIntervalTimetable(...)`` in the docs and DAGs, as written, builds."""
    files = [*(ROOT / "docs").glob("*.md"), *(ROOT / "dags").glob("*.py"), ROOT / "README.md"]
    found = [(f, m) for f in files for m in _TIMETABLE.findall(f.read_text().replace("\n", " "))]
    assert len(found) >= 4
    for file, text in found:
        timetable = eval(text, {"CronDataIntervalTimetable": CronDataIntervalTimetable})
        assert timetable is not None, f"{file.name}: {text}"


def _events(uri: str, run_id: str) -> dict[tuple[str, int], tuple[set[str], dict[str, Any]]]:
    """The run's events of one asset: (task, map index) -> (aliases, extra)."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        events = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == uri, AssetEvent.source_run_id == run_id)
        ).all()
        return {
            (e.source_task_id, e.source_map_index): ({a.name for a in e.source_aliases}, e.extra)
            for e in events
        }


def test_each_batch_and_the_run_emit_the_lake_asset_with_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_ACCOUNT_ID", DEFAULT_ACCOUNT)
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_MEDIA_OFFER_IDS", json.dumps(["e1", "e2", "e3"]))
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_OUTPUT_PATH", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_BATCH_SIZE", "2")
    dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag("fansly_media_stats_daily")
    assert dag is not None
    uri = (tmp_path / "media_stats").as_uri()
    both = {MEDIA_STATS.name, MEDIA_STATS_UPDATED.name}

    first = dag.test(logical_date=pendulum.datetime(2026, 3, 9, tz="UTC"))
    assert first.state == "success"
    # a new lake: its first event, and its link to both aliases, come from the run-level task
    ((aliases, extra),) = _events(uri, first.run_id).values()
    assert aliases == both and extra["batches"] == 2

    second = dag.test(logical_date=pendulum.datetime(2026, 3, 10, tz="UTC"))
    assert second.state == "success"
    found = _events(uri, second.run_id)
    assert set(found) == {("media_stats", 0), ("media_stats", 1), ("lake_updated", -1)}
    assert found["media_stats", 0][0] == {MEDIA_STATS.name}
    assert found["lake_updated", -1][0] == {MEDIA_STATS_UPDATED.name}
    batch, other = found["media_stats", 0][1], found["media_stats", 1][1]
    whole = found["lake_updated", -1][1]
    assert batch["days"] == ["2026-03-07", "2026-03-08", "2026-03-09"]  # the 2-day lookback
    assert batch["media_offers"] == 2 and other["media_offers"] == 1
    assert batch["requests"] == 2 and batch["rows"] > 0
    assert whole["batches"] == 2 and whole["days"] == batch["days"]
    assert whole["rows"] == batch["rows"] + other["rows"]
    assert whole["requests"] == 3 and whole["accounts"] == [DEFAULT_ACCOUNT]
    assert whole["table_version"] == max(batch["table_version"], other["table_version"])


def test_a_run_that_meets_another_dags_first_event_announces_nothing_and_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logs: LogText
) -> None:
    """The hourly DAG's run-level task holds the new lake's claim (its first event is being
    made): the daily DAG's first run lands its rows, emits no event through either alias, and
    succeeds; once the hourly's event is recorded, the daily's next run emits as usual."""
    from airflow_provider_fansly.storage.asset_links import claim, record_linked
    from airflow_provider_fansly.storage.location import Location

    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_ACCOUNT_ID", DEFAULT_ACCOUNT)
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_MEDIA_OFFER_IDS", json.dumps(["e1", "e2"]))
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_OUTPUT_PATH", str(tmp_path))
    uri = (tmp_path / "media_stats").as_uri()
    location = Location.parse(str(tmp_path))
    assert claim(location, uri, "fansly_media_stats_hourly.lake_updated[-1] run try 1")
    dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag("fansly_media_stats_daily")
    assert dag is not None

    first = dag.test(logical_date=pendulum.datetime(2026, 3, 9, tz="UTC"))
    assert first.state == "success"
    assert _events(uri, first.run_id) == {}
    assert "another task is making this new lake's first asset event" in logs()
    assert (tmp_path / "media_stats" / "_delta_log").exists()  # the data landed all the same

    record_linked(location, uri, "fansly_media_stats_hourly.lake_updated[-1] run try 1")
    second = dag.test(logical_date=pendulum.datetime(2026, 3, 10, tz="UTC"))
    assert second.state == "success"
    assert set(_events(uri, second.run_id)) == {
        ("media_stats", 0),
        ("lake_updated", -1),
    }
