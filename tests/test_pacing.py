"""The client-side sliding window, on a fake clock: bursts, waits, pauses and spreading."""

from __future__ import annotations

import pytest

from airflow_provider_fansly.pacing import RateLimiter


def sends(limiter: RateLimiter, count: int, now: float = 0.0) -> list[float]:
    """Reserve ``count`` slots at ``now``; return when each may go."""
    return [now + limiter.reserve(now) for _ in range(count)]


def test_a_burst_goes_out_at_once_while_the_window_has_room() -> None:
    assert sends(RateLimiter(120), 120) == [0.0] * 120


def test_the_request_after_the_limit_waits_for_the_window_plus_a_margin() -> None:
    limiter = RateLimiter(120)
    times = sends(limiter, 180)
    assert times[119] == 0.0
    assert times[120] == pytest.approx(60.0 + limiter.margin)
    # no 121 sends ever fall within one window
    assert all(b - a >= 60.0 for a, b in zip(times, times[120:], strict=False))


def test_no_limit_known_means_no_wait_until_the_server_says_one() -> None:
    limiter = RateLimiter(None)
    assert sends(limiter, 50) == [0.0] * 50
    limiter.observe({"x-ratelimit-limit": "10", "x-ratelimit-remaining": "9"})
    assert limiter.limit == 10
    assert limiter.reserve(0.0) > 59.0  # 50 already sent in this window


def test_the_lower_of_configured_and_learned_limits_wins() -> None:
    limiter = RateLimiter(600)
    limiter.observe({"x-ratelimit-limit": "100", "x-ratelimit-remaining": "99"})
    assert limiter.limit == 100


def test_a_pause_holds_every_later_request() -> None:
    limiter = RateLimiter(600)
    limiter.pause(7.0, now=10.0)
    assert limiter.paused_for(now=12.0) == pytest.approx(5.0)
    assert limiter.reserve(now=12.0) == pytest.approx(5.0)
    assert limiter.paused_for(now=17.5) == 0.0


def test_a_shrinking_shared_budget_spaces_sends_so_the_rest_lasts() -> None:
    limiter = RateLimiter(None)
    limiter.observe({"x-ratelimit-limit": "600", "x-ratelimit-remaining": "500"})
    assert sends(limiter, 3) == [0.0] * 3  # plenty left: a burst
    limiter.observe({"x-ratelimit-limit": "600", "x-ratelimit-remaining": "10"})
    times = sends(limiter, 3)
    gap = 60.0 / (RateLimiter.SHARE * 10)  # the 10 left would last a quarter of the window
    assert times[1] - times[0] == pytest.approx(gap) and times[2] - times[1] == pytest.approx(gap)


def test_a_429s_zero_remaining_is_not_read_as_the_budget() -> None:
    limiter = RateLimiter(None)
    limiter.observe({"x-ratelimit-limit": "600", "x-ratelimit-remaining": "400"})
    limiter.observe(
        {"x-ratelimit-limit": "600", "x-ratelimit-remaining": "0", "x-ratelimit-retry-after": "2"}
    )
    assert limiter.remaining == 400


def test_a_throttle_cuts_the_rate_below_what_was_sent_and_answers_recover_it() -> None:
    limiter = RateLimiter(None, window=60.0)
    times = [limiter.reserve(now=i * 0.1) + i * 0.1 for i in range(100)]  # 10 per second
    assert times == pytest.approx([i * 0.1 for i in range(100)])
    limiter.throttled(2.0, now=10.0)
    assert limiter.fill_rate == pytest.approx(RateLimiter.BACKOFF * 10, rel=0.05)
    first = 10.0 + limiter.reserve(now=10.0)
    second = 10.0 + limiter.reserve(now=10.0)
    assert first == pytest.approx(12.0)  # the server's advice
    assert second - first == pytest.approx(1 / limiter.fill_rate)
    before = limiter.fill_rate
    for _ in range(10):
        limiter.answered()
    assert limiter.fill_rate == pytest.approx(before * RateLimiter.RECOVERY**10)


def test_without_headers_a_platform_429_alone_slows_the_pace() -> None:
    limiter = RateLimiter(None)
    assert sends(limiter, 20) == [0.0] * 20  # nothing known: no wait
    limiter.throttled(0.0, now=0.0)
    assert limiter.fill_rate is not None
    assert limiter.reserve(0.0) > 0.0
