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
from airflow_provider_fansly.plugins.calendar import read_calendar
from airflow_provider_fansly.quality import Inputs, run_checks
from airflow_provider_fansly.quality.lake import LakeView
from airflow_provider_fansly.quality.timeliness import Completeness
from airflow_provider_fansly.storage.delta import FETCH_LOG_TABLE
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
