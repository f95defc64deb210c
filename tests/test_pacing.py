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


def test_low_remaining_spreads_requests_evenly() -> None:
    limiter = RateLimiter(None)
    limiter.observe({"x-ratelimit-limit": "600", "x-ratelimit-remaining": "10"})
    times = sends(limiter, 3)
    assert times[1] - times[0] == pytest.approx(0.1) and times[2] - times[1] == pytest.approx(0.1)
    limiter.observe({"x-ratelimit-limit": "600", "x-ratelimit-remaining": "500"})
    assert limiter.reserve(times[2]) == 0.0
