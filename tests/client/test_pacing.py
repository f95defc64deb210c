"""Client-side pacing on a fake clock: bursts, the window, the shared budget, 429s, the probe.

How tasks sharing a key behave together is in ``test_sharing.py``."""

from __future__ import annotations

import pytest

from airflow_provider_fansly.client.pacing import RateLimiter


def sends(limiter: RateLimiter, count: int, now: float = 0.0) -> list[float]:
    """One sender asking for ``count`` slots, waiting whenever told to; when each went."""
    times = []
    for _ in range(count):
        for _ in range(10_000):
            granted, wait = limiter.reserve(now)
            if granted:
                times.append(now + wait)
                break
            now += wait
    return times


def test_a_burst_goes_out_at_once_while_the_window_has_room() -> None:
    assert sends(RateLimiter(120), 120) == [0.0] * 120


def test_the_request_after_the_limit_waits_for_the_window_plus_a_margin() -> None:
    limiter = RateLimiter(120)
    times = sends(limiter, 180)
    assert times[119] == 0.0
    assert times[120] == pytest.approx(60.0 + limiter.margin)
    # no 121 sends ever fall within one window
    assert all(b - a >= 60.0 for a, b in zip(times, times[120:], strict=False))


def test_no_slot_is_claimed_ahead_of_time() -> None:
    limiter = RateLimiter(1)
    assert limiter.reserve(0.0) == (True, 0.0)
    granted, wait = limiter.reserve(0.0)
    assert not granted and wait == pytest.approx(60.0 + limiter.margin)
    assert limiter.reserve(0.0)[0] is False  # asking again claimed nothing meanwhile


def test_no_limit_known_means_no_wait_until_the_server_says_one() -> None:
    limiter = RateLimiter(None)
    assert sends(limiter, 50) == [0.0] * 50
    limiter.observe({"x-ratelimit-limit": "10"})
    assert limiter.limit == 10
    assert limiter.reserve(0.0)[1] > 59.0  # 50 already sent in this window


def test_the_lower_of_configured_and_learned_limits_wins() -> None:
    limiter = RateLimiter(600)
    limiter.observe({"x-ratelimit-limit": "100", "x-ratelimit-remaining": "99"})
    assert limiter.limit == 100


def test_a_pause_holds_every_later_request() -> None:
    limiter = RateLimiter(600)
    limiter.pause(7.0, now=10.0)
    assert limiter.paused_for(now=12.0) == pytest.approx(5.0)
    assert limiter.reserve(now=12.0) == (False, pytest.approx(5.0))
    assert limiter.reserve(now=17.0) == (True, 0.0)


def answer(limiter: RateLimiter, remaining: int, sent_at: float, now: float) -> None:
    limiter.observe(
        {"x-ratelimit-limit": "600", "x-ratelimit-remaining": str(remaining)}, sent_at, now
    )


def test_alone_on_a_fresh_key_the_budget_is_the_whole_key_less_the_reserve_spread_evenly() -> None:
    limiter = RateLimiter(None)
    assert sends(limiter, 1) == [0.0]
    answer(limiter, 599, sent_at=0.0, now=0.1)
    assert limiter.budget == 600 - limiter.reserve_size
    times = sends(limiter, 3, now=0.1)
    assert times[1] - times[0] == pytest.approx(60.0 / limiter.budget)  # even, not a burst


def test_others_in_the_window_at_the_start_limit_the_take_to_the_tasks_share() -> None:
    """Nine other sends and one of ours in the window: our share is a tenth, taken as a
    quarter (the floor), so tasks starting together do not each claim the whole room."""
    limiter = RateLimiter(None)
    sends(limiter, 1)
    answer(limiter, 590, sent_at=0.0, now=0.1)
    room = 590 - limiter.reserve_size
    assert limiter.budget == int(1 + RateLimiter.TAKE * room)


def test_a_full_key_gives_back_in_proportion_and_only_own_expired_sends_are_replaced() -> None:
    limiter = RateLimiter(None)
    sends(limiter, 1)
    answer(limiter, 599, sent_at=0.0, now=0.0)
    times = sends(limiter, 299, now=0.0)
    answer(limiter, 2, sent_at=times[-1], now=times[-1])  # others took the rest of the key
    assert limiter.budget is not None and limiter.budget < 300  # below the reserve: give back
    wait = limiter.reserve(times[-1])[1]
    first_out = times[299 - limiter.budget] + 60.0  # when enough own sends left the window
    assert wait == pytest.approx(first_out - times[-1])


def test_room_opening_after_the_first_window_is_taken_whole_and_quickly() -> None:
    """Others stopped: a task that has run a window takes all the room, spaced HASTE times
    tighter than its budget, so it speeds up within seconds instead of over a window."""
    limiter = RateLimiter(None)
    sends(limiter, 1)
    answer(limiter, 599, sent_at=0.0, now=0.0)
    answer(limiter, 300, sent_at=61.0, now=61.0)  # nothing of ours in the window any more
    assert limiter.budget == 300 - limiter.reserve_size
    granted, _ = limiter.reserve(61.0)
    assert granted
    assert limiter.reserve(61.0)[1] == pytest.approx(60.0 / (limiter.budget * RateLimiter.HASTE))


def test_a_429s_zero_remaining_is_not_read_as_the_budget() -> None:
    limiter = RateLimiter(None)
    limiter.observe({"x-ratelimit-limit": "600", "x-ratelimit-remaining": "400"})
    limiter.observe(
        {"x-ratelimit-limit": "600", "x-ratelimit-remaining": "0", "x-ratelimit-retry-after": "2"}
    )
    assert limiter.remaining == 400


def test_a_throttle_without_advice_cuts_the_rate_and_it_recovers_with_time() -> None:
    limiter = RateLimiter(None, window=60.0)
    assert sends(limiter, 100) == [0.0] * 100  # nothing known: no wait
    limiter.throttled(2.0, advised=False, now=0.0)
    rate = limiter.fill_rate(now=0.0)
    assert rate == pytest.approx(RateLimiter.BACKOFF * 100 / RateLimiter.MEASURE)
    assert limiter.reserve(0.0) == (False, pytest.approx(2.0))  # the pause first
    assert limiter.reserve(2.0)[0] is True
    assert limiter.reserve(2.0) == (False, pytest.approx(1 / limiter.fill_rate(2.0)))
    later = RateLimiter.RECOVERY_WINDOWS * 60.0
    assert limiter.fill_rate(now=later) == pytest.approx(2 * rate)


def test_a_throttle_with_the_servers_advice_only_pauses() -> None:
    limiter = RateLimiter(None)
    limiter.throttled(3.0, advised=True, now=0.0)
    assert limiter.fill_rate(now=0.0) is None
    assert limiter.paused_for(now=1.0) == pytest.approx(2.0)


def test_the_first_request_goes_alone_until_its_answer_says_what_is_left() -> None:
    limiter = RateLimiter(None)
    assert limiter.held_for(now=0.0) == 0.0
    assert limiter.reserve(0.0) == (True, 0.0)
    assert limiter.held_for(now=0.1) > 0.0  # the others wait for the probe's answer
    assert limiter.held_for(now=RateLimiter.PROBE_WAIT + 0.1) == 0.0  # not forever
    limiter.observe({"x-ratelimit-limit": "600", "x-ratelimit-remaining": "599"})
    assert limiter.held_for(now=0.2) == 0.0


def test_a_configured_cap_is_the_tasks_own_share_and_only_the_window_holds_it() -> None:
    """requests_per_minute is documented as a hard cap per task, the sharing by
    X-RateLimit-Remaining being for tasks without one: a capped task is not slowed by it."""
    capped, shared = RateLimiter(120), RateLimiter(None)
    for limiter in (capped, shared):
        sends(limiter, 1)
        limiter.observe({"x-ratelimit-limit": "120", "x-ratelimit-remaining": "10"}, 0.0, 0.1)
    assert sends(capped, 10, now=0.1) == [0.1] * 10
    spaced = sends(shared, 3, now=0.1)
    assert spaced[1] - spaced[0] >= 60.0 / 10
