"""The credit planner as a pure function: each tier's windows, its order, the day's budget."""

from __future__ import annotations

from datetime import date, timedelta

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS, day_bounds
from airflow_provider_fansly.ingest.planner import (
    MediaState,
    Tiers,
    batches_of,
    day_allowance,
    plan_account,
)

DAY = date(2026, 3, 10)
END = day_bounds(DAY)[1]


def ms(d: date, hour: int = 0) -> int:
    return day_bounds(d)[0] + hour * HOUR_MS


def days(n: int) -> date:
    return DAY - timedelta(days=n)


def windows(plan: object) -> dict[str, list[tuple[str, int, int, int]]]:
    found: dict[str, list[tuple[str, int, int, int]]] = {}
    for f in plan.fetches:  # type: ignore[attr-defined]
        found.setdefault(f.tier, []).append((f.media_offer_id, f.period, f.after, f.before))
    return found


def test_a_new_post_is_fresh_from_its_creation_and_its_launch_comes_once_over() -> None:
    new = MediaState("new", created_ms=ms(days(3), 15), first_fetched=days(3), last_fetched=days(1))
    plan = plan_account(DAY, [new])
    # fresh: from the day after its newest fetched day, with three days of lookback
    assert windows(plan)["fresh"] == [("new", DAY_MS, ms(days(3)), END)]
    # its 72 hours ended at 15:00 today: one hourly request from its posting hour
    assert windows(plan)["launch"] == [("new", HOUR_MS, ms(days(3), 15), ms(DAY, 15))]
    younger = MediaState("young", created_ms=ms(days(1), 15))
    assert "launch" not in windows(plan_account(DAY, [younger]))  # its hours are not over
    done = MediaState("done", created_ms=ms(days(3), 15), last_fetched=days(1), launch_fetched=True)
    assert "launch" not in windows(plan_account(DAY, [done]))


def test_a_top_listed_old_post_is_fresh_and_an_unlisted_one_waits_for_its_tail() -> None:
    old = {"created_ms": ms(days(200)), "first_fetched": days(200), "last_fetched": days(5)}
    listed = MediaState("listed", top_rank=4, **old)  # type: ignore[arg-type]
    quiet = MediaState("quiet", top_rank=30, **old)  # type: ignore[arg-type]
    plan = windows(plan_account(DAY, [listed, quiet]))
    assert plan == {"fresh": [("listed", DAY_MS, ms(days(4)), END)]}  # quiet is not due yet


def test_the_tail_covers_everything_since_its_last_fetch_in_one_request_every_28_days() -> None:
    due = MediaState(
        "due", created_ms=ms(days(400)), first_fetched=days(400), last_fetched=days(28)
    )
    early = MediaState("early", first_fetched=days(400), last_fetched=days(27))
    plan = plan_account(DAY, [early, due])
    assert windows(plan) == {"tail": [("due", DAY_MS, ms(days(27)), END)]}
    assert plan.requests == 1  # 28 days: one request


def test_history_goes_newest_first_in_99_day_requests_behind_the_fresh_window() -> None:
    found = MediaState("found", created_ms=ms(days(250)), top_rank=2)  # listed, never fetched
    plan = windows(plan_account(DAY, [found]))
    fresh_from = ms(days(98))  # one request of 99 days through today
    assert plan["fresh"] == [("found", DAY_MS, fresh_from, END)]
    assert plan["history"] == [
        ("found", DAY_MS, ms(days(250)) + 99 * DAY_MS, fresh_from),
        ("found", DAY_MS, ms(days(250)), ms(days(250)) + 99 * DAY_MS),
    ]
    unknown = MediaState("listed-by-hand")  # no creation time: from the configured first day
    assert windows(plan_account(DAY, [unknown], first_day=days(10)))["history"] == [
        ("listed-by-hand", DAY_MS, ms(days(10)), END)
    ]
    # nor a first day: one request's worth, then on from its creation once an answer says it
    assert windows(plan_account(DAY, [unknown]))["history"] == [
        ("listed-by-hand", DAY_MS, ms(days(98)), END)
    ]
    started = MediaState("listed-by-hand", created_ms=ms(days(300)), first_fetched=days(98),
                         last_fetched=DAY)  # fmt: skip
    assert windows(plan_account(DAY, [started]))["history"] == [  # newest first
        ("listed-by-hand", DAY_MS, ms(days(102)), ms(days(98))),
        ("listed-by-hand", DAY_MS, ms(days(201)), ms(days(102))),
        ("listed-by-hand", DAY_MS, ms(days(300)), ms(days(201))),
    ]


def test_a_small_budget_serves_tiers_in_order_and_the_best_ranked_first() -> None:
    fresh = [
        MediaState(f"f{rank}", top_rank=rank, first_fetched=days(50), last_fetched=days(1))
        for rank in (3, 1, 2)
    ]
    tail = [MediaState(f"t{n}", first_fetched=days(90), last_fetched=days(28 + n)) for n in (0, 5)]
    plan = plan_account(DAY, [*tail, *fresh], allowance=3)
    assert [f.media_offer_id for f in plan.fetches] == ["f1", "f2", "f3"]
    assert plan.deferred == {"fresh": 0, "launch": 0, "tail": 2, "history": 0}
    assert plan.needed["tail"] == 2 and "tail 0/2, 2 deferred (33 days back)" in plan.describe()
    assert plan.behind("tail") == 33 and plan.behind("fresh") == 0  # t5: newest day 33 ago
    richer = plan_account(DAY, [*tail, *fresh], allowance=4)
    assert [f.media_offer_id for f in richer.fetches][3:] == ["t5"]  # the longest waiting


def test_the_month_is_spread_over_its_days_and_its_last_day_takes_what_is_left() -> None:
    assert day_allowance(20_000, 2_000, date(2026, 3, 13)) == 18_000 // 19
    assert day_allowance(20_000, 19_000, date(2026, 3, 31)) == 1_000
    assert day_allowance(20_000, 25_000, date(2026, 12, 31)) == 0
    assert day_allowance(None, 5, DAY) is None


def test_batches_share_a_tier_and_a_window_and_hold_at_most_50() -> None:
    states = [MediaState(f"m{i:03d}", top_rank=1, first_fetched=days(9), last_fetched=days(1))
              for i in range(120)]  # fmt: skip
    plan = plan_account(DAY, states, Tiers())
    batches = batches_of(plan.fetches)
    assert [len(b["media_offer_ids"]) for b in batches] == [50, 50, 20]  # type: ignore[arg-type]
    assert {(b["tier"], b["after_date"], b["before_date"]) for b in batches} == {
        ("fresh", ms(days(3)), END)
    }
