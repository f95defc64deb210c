"""The quality checks, the page's calendar and ``coverage_gaps`` judge a day by one rule.

The lake is planted with the cases where their three rules used to differ: a media offer
missing on a day before it went gone (the completeness check left it out of every day), one
asked again after it went gone (``coverage_gaps`` reported it gone each day), and one never
asked again (``coverage_gaps`` called those days gaps, the calendar did not).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.coverage import coverage_gaps
from airflow_provider_fansly.plugins import overview
from airflow_provider_fansly.plugins.calendar import read_calendar
from airflow_provider_fansly.quality import Inputs, run_checks
from airflow_provider_fansly.quality.lake import LakeView
from airflow_provider_fansly.quality.timeliness import Completeness, Freshness
from airflow_provider_fansly.storage.delta import FETCH_LOG_TABLE, TOP_MEDIA_TABLE
from airflow_provider_fansly.storage.location import Location
from tests.quality.planted import AS_OF, day, log_row, write

ACCOUNT = "acct"
IDS = ["kept", "late_gone", "asked_again", "left"]
FIRST, LAST = day(6), day(1)
#: (media offer, day) -> what the fetch log says; a day not named was not fetched
PLANTED = {
    **{("kept", day(n)): "fetched" for n in range(1, 7)},
    # not fetched on day(6), fetched on day(5) and day(4), gone from day(3)
    **{("late_gone", day(n)): "fetched" for n in (5, 4)},
    ("late_gone", day(3)): "gone",
    # gone on day(5) and asked again (gone again) on day(4) and day(3)
    ("asked_again", day(6)): "fetched",
    **{("asked_again", day(n)): "gone" for n in (5, 4, 3)},
    # gone on day(4) and never asked again
    **{("left", day(n)): "fetched" for n in (6, 5)},
    ("left", day(4)): "gone",
}
#: what the one rule says: day -> (missing, gone for the first time)
JUDGED = {
    day(6): (("late_gone",), ()),
    day(5): ((), ("asked_again",)),
    day(4): ((), ("left",)),
    day(3): ((), ("late_gone",)),
}


def plant(lake: Path) -> None:
    rows = [log_row(ACCOUNT, m, d, status=s) for (m, d), s in PLANTED.items()]
    write(lake, FETCH_LOG_TABLE, rows)


def test_the_three_readers_agree_day_by_day(tmp_path: Path) -> None:
    plant(tmp_path)
    location = Location.parse(str(tmp_path))
    expected = {ACCOUNT: IDS}

    gaps = coverage_gaps(str(tmp_path), expected, FIRST, LAST)
    assert {g.day: (g.missing, g.gone) for g in gaps} == JUDGED

    calendar = read_calendar(location, DAY_MS, AS_OF, 7, expected)
    clicked = {
        d: calendar.missing(ACCOUNT, d) for d in (FIRST + timedelta(days=i) for i in range(6))
    }
    assert {d: (tuple(m), tuple(g)) for d, (m, g) in clicked.items() if m or g} == JUDGED
    cells = {c.day: c.status for c in calendar.cells[ACCOUNT]}
    assert [cells[d] for d in sorted(JUDGED)] == ["gap", "gone", "gone", "gone"]
    assert cells[day(2)] == cells[day(1)] == "covered"  # nothing left expected but kept

    view = LakeView(location, DAY_MS, FIRST, AS_OF)
    findings = run_checks([Completeness()], Inputs(view, expected, None))
    gap_days = {
        f.day: tuple(s["media_offer_id"] for s in f.sample) for f in findings if f.day is not None
    }
    assert gap_days == {d: missing for d, (missing, _) in JUDGED.items() if missing}
    warned_gone = {f.media_offer_id for f in findings if f.status == "warned" and f.day is None}
    assert warned_gone == {"late_gone", "asked_again", "left"}


PLANNED = "planned"


def test_a_planned_accounts_tail_is_not_a_gap_until_it_is_due(tmp_path: Path) -> None:
    """The tail waits 28 days: days after a newest fetched day 19 days old are not due yet;
    after one 34 days old they are gaps, and a fresh (top-listed) media offer is due every
    day; in all three readers alike, and freshness names each tier that is behind."""
    first = day(40)
    fetched = {"waits": day(20), "overdue": day(35), "hot": day(5)}
    rows = [
        log_row(PLANNED, media, first + timedelta(days=n))
        for media, last in fetched.items()
        for n in range((last - first).days + 1)
    ]
    # found late (a new post, or one discovered later): fetched from day(10) to day(2)
    rows += [log_row(PLANNED, "late", day(n)) for n in range(2, 11)]
    write(tmp_path, FETCH_LOG_TABLE, rows)
    ids = {PLANNED: sorted([*fetched, "late"])}
    location = Location.parse(str(tmp_path))
    plain = coverage_gaps(str(tmp_path), ids, day(19), day(1))
    assert {m for g in plain for m in g.missing} == {*fetched, "late"}  # not planned: gaps
    top = {"account_id": PLANNED, "period_ms": DAY_MS, "dt": day(1), "window_start": 0,
           "window_end": DAY_MS * 1000, "list": "views", "rank": 1, "media_offer_id": "hot",
           "views": 1, "preview_views": 0, "interaction_time_ms": 0,
           "preview_interaction_time_ms": 0, "unique_viewers": None, "fetched_at": 0}  # fmt: skip
    write(tmp_path, TOP_MEDIA_TABLE, [top])  # discovery ran: the account is planned

    behind = {"overdue", "hot"}
    gaps = coverage_gaps(str(tmp_path), ids, day(19), day(1))
    assert {m for g in gaps for m in g.missing} == behind
    listed_none = coverage_gaps(str(tmp_path), {PLANNED: []}, day(19), day(1))
    assert {m for g in listed_none for m in g.missing} == behind  # what the plan found counts
    calendar = read_calendar(location, DAY_MS, AS_OF, 19, ids)
    clicked = {m for d in (day(n) for n in range(1, 20)) for m in calendar.missing(PLANNED, d)[0]}
    assert clicked == behind
    view = LakeView(location, DAY_MS, day(19), AS_OF)
    inputs = Inputs(view, ids, None)
    findings = run_checks([Completeness()], inputs)
    assert {s["media_offer_id"] for f in findings for s in f.sample} == behind
    late = [f for f in run_checks([Freshness()], inputs) if f.status != "passed"]
    assert sorted((f.threshold, [s["media_offer_id"] for s in f.sample]) for f in late) == [
        (2.0, ["hot"]),  # fresh: two days allowed, four behind
        (30.0, ["overdue"]),  # tail: 28 + 2 allowed, 34 behind
    ]
    # the page's plan: each tier's size, how far behind, and the tail's next due day
    assert overview.plan_status(location, AS_OF) == [
        {
            "account_id": PLANNED,
            "tiers": {
                "fresh": {"media_offers": 1, "behind_days": 4},
                "tail": {"media_offers": 3, "behind_days": 34, "next_due": str(day(7))},
            },
        }
    ]
