"""The page's data without a server: the calendar's statuses, what a click lists, the command
it offers, the credits per day, the quality summary, and the lakes configuration."""

from __future__ import annotations

import calendar
import json
import shlex
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.exceptions import FanslyInputError
from airflow_provider_fansly.plugins import overview
from airflow_provider_fansly.plugins.app import _command
from airflow_provider_fansly.plugins.calendar import read_calendar
from airflow_provider_fansly.plugins.lakes import parse_lakes
from airflow_provider_fansly.storage.delta import FETCH_LOG_TABLE
from airflow_provider_fansly.storage.location import Location
from tests.plugins.lake import DAYS, GAP, GONE, QUIET, SPENT, TODAY, build
from tests.quality.planted import log_row, write


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    build(root)
    return root


def statuses(lake: Path, account: str, **kwargs: object) -> dict[object, str]:
    calendar = read_calendar(Location.parse(str(lake)), DAY_MS, TODAY, 60, **kwargs)  # type: ignore[arg-type]
    return {c.day: c.status for c in calendar.cells[account]}


def test_each_day_gets_its_status(lake: Path) -> None:
    a, b = statuses(lake, "acct_a"), statuses(lake, "acct_b")
    assert a[GAP[2]] == "gap"
    # it went away on its first gone day; later days are judged without it
    assert [b[d] for _, _, d in GONE] == ["covered", "covered", "gone"]
    assert b[QUIET[1]] == "quiet"
    assert a[TODAY] == b[TODAY] == "not_due"
    assert a[TODAY - timedelta(days=DAYS + 1)] == "before"
    held = {d: s for d, s in a.items() if d != GAP[2] and s not in ("before", "not_due")}
    assert len(held) == DAYS - 1 and set(held.values()) == {"covered"}


def test_a_click_lists_exactly_what_is_missing_and_gone(lake: Path) -> None:
    calendar = read_calendar(Location.parse(str(lake)), DAY_MS, TODAY, 60)
    assert calendar.missing("acct_a", GAP[2]) == (["a2"], [])
    assert calendar.missing("acct_b", GONE[2][2]) == ([], ["b1"])  # its first gone day
    assert calendar.missing("acct_b", GONE[0][2]) == ([], [])
    assert calendar.missing("acct_b", QUIET[1]) == ([], [])
    assert calendar.newest() == {"acct_a": TODAY - timedelta(days=1),
                                 "acct_b": TODAY - timedelta(days=1)}  # fmt: skip


def test_a_configured_media_offer_never_fetched_is_a_gap_every_day(lake: Path) -> None:
    a = statuses(lake, "acct_a", expected={"acct_a": ["a1", "a9"]})
    assert {s for s in a.values() if s not in ("before", "not_due")} == {"gap"}
    calendar = read_calendar(Location.parse(str(lake)), DAY_MS, TODAY, 60, {"acct_a": ["a1", "a9"]})
    assert calendar.missing("acct_a", GAP[2]) == (["a9"], [])  # a2 is not expected


def test_a_day_fetched_in_parts_is_covered_only_without_a_hole(tmp_path: Path) -> None:
    day = TODAY - timedelta(days=2)

    def part(start: int, end: int) -> dict[str, object]:
        return log_row("acct", "m1", day, period=HOUR_MS, hours=range(start, end))

    earlier = log_row("acct", "m1", day - timedelta(days=1), period=HOUR_MS)
    write(tmp_path, FETCH_LOG_TABLE, [earlier, part(0, 12), part(13, 24)])
    location = Location.parse(str(tmp_path))
    assert read_calendar(location, HOUR_MS, TODAY, 5).cells["acct"][2].status == "gap"
    write(tmp_path, FETCH_LOG_TABLE, [part(11, 14)])
    assert read_calendar(location, HOUR_MS, TODAY, 5).cells["acct"][2].status == "covered"


def test_the_command_fetches_only_the_missing_media_offers_of_that_day() -> None:
    (lake,) = parse_lakes(json.dumps({"main": {"path": "/data/lake's"}}), None, None)
    words = shlex.split(_command(lake, "daily", "acct_a", GAP[2], ["a2", "a7"]))
    assert words[:3] == ["airflow", "backfill", "create"]
    assert words[words.index("--dag-id") + 1] == "fansly_media_stats_daily"
    assert (
        words[words.index("--from-date") + 1] == words[words.index("--to-date") + 1] == str(GAP[2])
    )
    assert words[words.index("--reprocess-behavior") + 1] == "completed"
    conf = json.loads(words[words.index("--dag-run-conf") + 1])
    assert conf == {
        "account_id": "acct_a",
        "media_offer_ids": ["a2", "a7"],
        "output_path": "/data/lake's",
    }


def test_the_top_tags_are_the_latest_answers_of_the_days_on_screen(lake: Path) -> None:
    location = Location.parse(str(lake))
    found = overview.top_tags(location, DAY_MS, TODAY - timedelta(days=30), TODAY)
    by_account = {a["account_id"]: [(t["tag_name"], t["views"]) for t in a["tags"]] for a in found}
    # a1's older answer (x100) of the same window is left out, the tag of 60 days ago too
    assert by_account == {"acct_a": [("gaming", 45), ("cosplay", 40)], "acct_b": [("travel", 7)]}
    assert found[0]["tags"][0]["media_offers"] == 2
    assert overview.top_tags(location, DAY_MS, TODAY - timedelta(days=2), TODAY)[0]["tags"] == [
        {"tag_id": "9003", "tag_name": "travel", "views": 7, "media_offers": 1}
    ]


def test_credits_count_per_day_and_month(lake: Path) -> None:
    month = datetime.now(timezone.utc).strftime("%Y-%m")
    credits = overview.credits(Location.parse(str(lake)), month, 1000).as_dict()
    assert credits["spent"] == SPENT and credits["left"] == 1000 - SPENT
    assert credits["by_tier"] == {"unplanned": SPENT}  # the planted ledger names no tier
    first = date.fromisoformat(f"{month}-01")
    tenth = overview.credits(Location.parse(str(lake)), month, 1000, first + timedelta(days=9))
    days_in_month = calendar.monthrange(first.year, first.month)[1]
    assert tenth.projection == round(SPENT * days_in_month / 10)  # the pace of ten days
    later = overview.credits(Location.parse(str(lake)), month, 1000, date(2100, 1, 1))
    assert later.projection == SPENT  # a month that is over: what it spent
    assert list(credits["per_day"].values()) == [SPENT]
    assert overview.credits(Location.parse(str(lake)), "2001-01", None).as_dict()["spent"] == 0


def test_the_quality_summary_shows_the_failed_check_and_its_history(lake: Path) -> None:
    (daily,) = overview.quality(Location.parse(str(lake)))
    checks = {c["check_id"]: c for c in daily["checks"]}
    assert checks["completeness"]["status"] == "failed"
    assert checks["completeness"]["observed"] == 10 and checks["completeness"]["threshold"] == 3
    assert checks["uniqueness"]["status"] == "passed" and checks["uniqueness"]["findings"] == 0
    assert daily["history"] == {"completeness": ["failed"], "uniqueness": ["passed"]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "is not a JSON object of lakes"),
        ("[]", "is not a JSON object of lakes"),
        ("{}", "non-empty JSON object"),
        ('{"x": {}}', "lake 'x': Object missing required field `path`"),
        (
            '{"x": {"path": "/l", "monthly_credits": 0}}',
            r"lake 'x': .* >= 1 - at `\$.monthly_credits`",
        ),
        ('{"x": {"path": "/l", "accounts": {"a": "m1"}}}', r"lake 'x': .* at `\$.accounts"),
        (
            '{"x": {"path": "/l", "montly_credits": 5}}',
            "lake 'x': .*unknown field `montly_credits`",
        ),
    ],
)
def test_a_bad_lakes_variable_is_named(text: str, message: str) -> None:
    with pytest.raises(FanslyInputError, match=message):
        parse_lakes(text, None, None)


def test_without_the_variable_the_example_dags_output_path_is_the_lake() -> None:
    (lake,) = parse_lakes(None, "/data/lake", '{"acct": ["m1"]}')
    assert (lake.name, lake.path, lake.accounts) == ("default", "/data/lake", {"acct": ("m1",)})
    assert parse_lakes(None, None, None) == []


def test_a_broken_variable_is_the_servers_error_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi import HTTPException

    from airflow_provider_fansly.plugins.app import _lake

    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_LAKES", '{"main": {"path": 7}}')
    with pytest.raises(HTTPException) as refused:
        _lake(None, None)
    assert refused.value.status_code == 500
    assert refused.value.detail == (
        "Variable fansly_lakes, lake 'main': Expected `str`, got `int` - at `$.path`"
    )


def test_the_calendar_reads_only_its_days_and_takes_the_rest_from_history(
    lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two days on screen: the fetch log is read for those two only; b1, gone three days ago,
    is no longer expected; the accounts' history starts before them, so no day is 'before'."""
    from airflow_provider_fansly.plugins import calendar as module

    asked = []
    real = module.read_log

    def spy(location: Location, period: int, first: object = None, last: object = None) -> object:
        asked.append((first, last))
        return real(location, period, first, last)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "read_log", spy)
    calendar = read_calendar(Location.parse(str(lake)), DAY_MS, TODAY, 2)
    assert asked == [(TODAY - timedelta(days=1), TODAY)]
    yesterday = {a: cells[0] for a, cells in calendar.cells.items()}
    assert {a: c.status for a, c in yesterday.items()} == {"acct_a": "covered", "acct_b": "covered"}
    assert yesterday["acct_b"].expected == len(calendar.expected["acct_b"]) - 1  # b1 went
    assert calendar.missing("acct_b", TODAY - timedelta(days=1)) == ([], [])


def test_history_is_updated_from_the_files_added_since(tmp_path: Path) -> None:
    """A newer fetch log is read from its new files only: a row planted in the previous
    history survives (nothing re-read it), and the rest equals a full read."""
    import polars as pl

    from airflow_provider_fansly.storage.history import History, read_history

    build(tmp_path)
    location = Location.parse(str(tmp_path))
    first = read_history(location, DAY_MS)
    early = TODAY - timedelta(days=200)
    write(tmp_path, FETCH_LOG_TABLE, [log_row("acct_a", "a7", early)])
    planted = pl.concat(
        [
            first.firsts,
            pl.DataFrame(
                [("zz", "z1", early, early, None)], schema=first.firsts.schema, orient="row"
            ),
        ]
    )
    updated = read_history(location, DAY_MS, History(first.files, planted))
    full = read_history(location, DAY_MS)
    assert updated.firsts.filter(pl.col("account_id") != "zz").equals(full.firsts)
    assert updated.firsts.filter(pl.col("account_id") == "zz").height == 1
    a7 = full.firsts.filter(pl.col("media_offer_id") == "a7").row(0, named=True)
    assert (a7["first_fetched"], a7["first_gone"]) == (early, None)
    # files the previous history was read from are gone (compacted): a full read again
    rewritten = read_history(location, DAY_MS, History(frozenset({"gone.parquet"}), planted))
    assert rewritten.firsts.equals(full.firsts)
