"""FanslyHook over real HTTP against the emulator on loopback."""

from __future__ import annotations

import asyncio
import time

import pytest

from airflow_provider_fansly import exceptions as exc
from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.hooks.fansly import FanslyHook
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, DEFAULT_KEY, Emulator
from airflow_provider_fansly.testing.synthetic import expected_rows
from tests.conftest import FAST_RETRIES, LogText, connection_json

D0 = 1_771_286_400_000  # 2026-02-17T00:00Z (m1 has stats that day)
DAY = {"after": D0, "before": D0 + DAY_MS, "period": HOUR_MS}


def served(emu: Emulator) -> int:
    return emu.state.counts["requests"]


def rows_of(stats: object) -> list[tuple[int, int, int]]:
    return [(p.timestamp, s.type, s.views) for p in stats.datapoints for s in p.stats]  # type: ignore[attr-defined]


def test_240_hourly_buckets_take_3_requests_none_lost_or_doubled(fansly_conn: Emulator) -> None:
    before = D0 + 240 * HOUR_MS
    stats = FanslyHook().get_media_stats(
        DEFAULT_ACCOUNT, "m1", after=D0, before=before, period=HOUR_MS
    )
    assert stats.requests == 3 == served(fansly_conn)
    truth = [
        (r["bucket_start_ms"], r["stat_type"], r["views"])
        for r in expected_rows(DEFAULT_ACCOUNT, "m1", D0, before, HOUR_MS)
    ]
    assert sorted(rows_of(stats)) == sorted(truth)
    stamps = [p.timestamp for p in stats.datapoints]
    assert stamps == sorted(set(stamps))
    asked = [(e["after"], e["before"]) for e in fansly_conn.state.log]
    assert asked == [
        (D0, D0 + 99 * HOUR_MS),
        (D0 + 99 * HOUR_MS, D0 + 198 * HOUR_MS),
        (D0 + 198 * HOUR_MS, before),
    ]


def test_the_bucket_at_before_date_is_dropped(fansly_conn: Emulator) -> None:
    stats = FanslyHook().get_media_stats(DEFAULT_ACCOUNT, "m2", after=D0, before=D0 + 3 * DAY_MS)
    assert all(D0 <= p.timestamp < D0 + 3 * DAY_MS for p in stats.datapoints)
    assert stats.media[0].id == "m2"


def test_far_past_answers_one_zero_bucket_outside_the_window(fansly_conn: Emulator) -> None:
    stats = FanslyHook().get_media_stats(DEFAULT_ACCOUNT, "m1", after=0, before=DAY_MS)
    assert stats.datapoints == []


FAULTS = [
    ("5xx-twice", {"kind": "server_error", "times": 2}, 3),
    ("502-html", {"kind": "bad_gateway_html"}, 2),
    ("truncated", {"kind": "truncated"}, 2),
    ("reset", {"kind": "reset"}, 2),
    ("slow", {"kind": "slow", "seconds": 1.5}, 2),
    ("transient-429", {"kind": "rate_limit", "retry_after": 1}, 2),
    ("data-type", {"kind": "wrong_types"}, 2),
]


@pytest.mark.parametrize(("fault", "requests"), [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS])
def test_passing_faults_are_retried_exactly_as_often_as_needed(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, fault: dict[str, object], requests: int
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_FANSLY_DEFAULT", connection_json(emu.url, **{**FAST_RETRIES, "timeout": 0.5})
    )
    emu.add_faults(fault)
    hook = FanslyHook()
    stats = hook.get_media_stats(DEFAULT_ACCOUNT, "m1", **DAY)
    assert served(emu) == requests == hook.counters.requests
    assert hook.counters.retries == requests - 1
    assert len(stats.datapoints) > 0


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, exc.FanslyBadRequestError),
        (401, exc.FanslyAuthError),
        (403, exc.FanslyAuthError),
        (404, exc.FanslyNotFoundError),
        (402, exc.FanslyCreditsExhaustedError),
    ],
    ids=["400", "401", "403", "404", "402"],
)
def test_4xx_is_never_retried(fansly_conn: Emulator, status: int, error: type) -> None:
    fansly_conn.add_faults({"kind": "status", "status": status, "times": 5})
    with pytest.raises(error):
        FanslyHook().get_media_stats(DEFAULT_ACCOUNT, "m1", **DAY)
    assert served(fansly_conn) == 1


@pytest.mark.parametrize("wrap", ["inner", "outer"])
def test_permanent_upstream_error_gets_exactly_one_more_try(
    fansly_conn: Emulator, wrap: str
) -> None:
    fansly_conn.config.upstream_wrap = wrap
    with pytest.raises(exc.FanslyUpstreamError, match="deleted-media") as info:
        FanslyHook().get_media_stats(DEFAULT_ACCOUNT, "deleted-media", **DAY)
    assert info.value.permanent
    assert served(fansly_conn) == 2


def test_retries_are_bounded(fansly_conn: Emulator) -> None:
    fansly_conn.add_faults({"kind": "server_error", "times": 50})
    with pytest.raises(exc.FanslyServerError):
        FanslyHook().get_media_stats(DEFAULT_ACCOUNT, "m1", **DAY)
    assert served(fansly_conn) == 1 + FAST_RETRIES["max_retries"]


def test_credits_exhausted_stops_at_once(fansly_conn: Emulator) -> None:
    fansly_conn.config.credits = 1
    hook = FanslyHook()
    hook.get_media_stats(DEFAULT_ACCOUNT, "m1", **DAY)
    with pytest.raises(exc.FanslyCreditsExhaustedError, match="credits"):
        hook.get_media_stats(DEFAULT_ACCOUNT, "m1", **DAY)
    assert served(fansly_conn) == 2


def test_pacing_keeps_under_the_configured_rate(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.config.rate_limit, emu.config.rate_window = 5, 1.0
    monkeypatch.setenv(
        "AIRFLOW_CONN_FANSLY_DEFAULT",
        connection_json(emu.url, requests_per_minute=5, rate_window_seconds=1.0, **FAST_RETRIES),
    )
    hook = FanslyHook()
    for media in ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"):
        hook.get_media_stats(DEFAULT_ACCOUNT, media, **DAY)
    assert emu.state.counts["rate_limited"] == 0
    arrivals = [e["at"] for e in emu.state.log]
    assert len(arrivals) == 12
    assert all(b - a >= 1.0 for a, b in zip(arrivals, arrivals[5:], strict=False))


def test_pacing_learns_the_limit_from_headers(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.config.rate_limit, emu.config.rate_window = 4, 1.0
    monkeypatch.setenv(
        "AIRFLOW_CONN_FANSLY_DEFAULT",
        connection_json(emu.url, rate_window_seconds=1.0, **FAST_RETRIES),
    )
    hook = FanslyHook()
    for media in "abcdefghij":
        hook.get_media_stats(DEFAULT_ACCOUNT, media, **DAY)
    assert hook.limiter.learned == 4
    assert emu.state.counts["rate_limited"] == 0


def test_a_429_pauses_every_concurrent_request(fansly_conn: Emulator) -> None:
    fansly_conn.add_faults({"kind": "rate_limit", "retry_after": 1, "media": "m0"})
    hook = FanslyHook()

    async def fetch_all() -> None:
        try:
            first = asyncio.create_task(hook.aget_media_stats(DEFAULT_ACCOUNT, "m0", **DAY))
            for _ in range(500):  # until the 429 is back: then start the others
                if hook.counters.rate_limited:
                    break
                await asyncio.sleep(0.01)
            others = [hook.aget_media_stats(DEFAULT_ACCOUNT, f"m{i}", **DAY) for i in range(1, 8)]
            await asyncio.gather(first, *others)
        finally:
            await hook.aclose()

    asyncio.run(fetch_all())
    refused, *rest = fansly_conn.state.log
    assert refused["media"] == "m0" and len(rest) == 8
    assert all(e["at"] >= refused["at"] + 1.0 for e in rest)
    assert hook.counters.rate_limited == 1


def test_async_matches_sync(fansly_conn: Emulator) -> None:
    hook = FanslyHook()
    sync = [rows_of(hook.get_media_stats(DEFAULT_ACCOUNT, f"m{i}", **DAY)) for i in range(5)]

    async def fetch() -> list[list[tuple[int, int, int]]]:
        try:
            results = await asyncio.gather(
                *(hook.aget_media_stats(DEFAULT_ACCOUNT, f"m{i}", **DAY) for i in range(5))
            )
        finally:
            await hook.aclose()
        return [rows_of(r) for r in results]

    assert asyncio.run(fetch()) == sync


def test_the_echoed_window_is_not_evidence_the_datapoints_are(fansly_conn: Emulator) -> None:
    fansly_conn.add_faults({"kind": "short_coverage"})  # dateAfter echoed a day late
    stats = FanslyHook().get_media_stats(DEFAULT_ACCOUNT, "m1", **DAY)
    fansly_conn.state.reset()
    assert stats.datapoints == FanslyHook().get_media_stats(DEFAULT_ACCOUNT, "m1", **DAY).datapoints


def test_a_cut_answer_is_completed_with_requests_that_fit_the_reported_cap(
    fansly_conn: Emulator,
) -> None:
    fansly_conn.config.datapoint_limit = 30
    hook = FanslyHook()
    stats = hook.get_media_stats(DEFAULT_ACCOUNT, "m1", after=D0, before=D0 + 90 * DAY_MS)
    expected = [
        r["bucket_start_ms"]
        for r in expected_rows(DEFAULT_ACCOUNT, "m1", D0, D0 + 90 * DAY_MS, DAY_MS)
    ]
    assert sorted(stats.times) == sorted(expected)
    assert hook.datapoint_limit == 30 and hook.counters.cut_answers == 1
    assert fansly_conn.state.counts["requests"] == 4 == -(-90 // 29)


@pytest.mark.parametrize(
    "media",
    ["", "a/b", "..", "x?y=1", "x#frag", "x%2F", "with space", "tab\t", "ctl\x00", "x" * 129],
    ids=["empty", "slash", "dotdot", "query", "fragment", "percent", "space", "tab", "nul", "long"],
)
def test_unsafe_ids_are_refused_before_any_request(fansly_conn: Emulator, media: str) -> None:
    with pytest.raises(ValueError, match="media_offer_id"):
        FanslyHook().get_media_stats(DEFAULT_ACCOUNT, media, **DAY)
    assert served(fansly_conn) == 0


def test_the_key_never_shows(emu: Emulator, monkeypatch: pytest.MonkeyPatch, logs: LogText) -> None:
    secret = "sk_live_do_not_print_me"
    emu.config.api_keys = {secret}
    monkeypatch.setenv(
        "AIRFLOW_CONN_FANSLY_DEFAULT", connection_json(emu.url, secret, **FAST_RETRIES)
    )
    emu.add_faults({"kind": "server_error"}, {"kind": "status", "status": 404})
    hook = FanslyHook()
    with pytest.raises(exc.FanslyNotFoundError) as info:
        hook.get_media_stats(DEFAULT_ACCOUNT, "m1", **DAY)
    text = logs()
    assert secret not in text
    assert secret not in str(info.value) and secret not in repr(info.value)
    assert secret not in repr(hook)
    assert "Try 1 failed" in text


def test_test_connection_passes_with_the_right_key(fansly_conn: Emulator) -> None:
    ok, message = FanslyHook().test_connection()
    assert ok and "2 account(s)" in message


def test_test_connection_fails_fast_with_a_wrong_key(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FANSLY_DEFAULT", connection_json(emu.url, "wrong-key"))
    started = time.monotonic()
    ok, message = FanslyHook().test_connection()
    assert not ok and "API key is missing or invalid" in message and "401" in message
    assert "wrong-key" not in message
    assert served(emu) == 1
    assert time.monotonic() - started < 10  # "within seconds": a hung test would show here


def test_a_connection_without_key_says_so(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FANSLY_DEFAULT", connection_json(emu.url, ""))
    ok, message = FanslyHook().test_connection()
    assert not ok and "no API key" in message
    assert served(emu) == 0


def test_default_key_constant_is_what_the_emulator_accepts(emu: Emulator) -> None:
    assert DEFAULT_KEY in emu.config.api_keys


def test_429s_are_waited_out_however_many_while_the_time_allows(fansly_conn: Emulator) -> None:
    storm = FAST_RETRIES["max_retries"] * 3  # more than any count of retries would allow
    fansly_conn.add_faults({"kind": "rate_limit", "retry_after": 0.05, "times": storm})
    hook = FanslyHook()
    stats = hook.get_media_stats(DEFAULT_ACCOUNT, "m1", **DAY)
    assert stats.datapoints and hook.counters.rate_limited == storm


def test_429s_beyond_max_rate_limit_wait_fail_naming_the_wait(fansly_conn: Emulator) -> None:
    fansly_conn.add_faults({"kind": "rate_limit", "retry_after": 0.2, "times": 100})
    hook = FanslyHook(max_rate_limit_wait=1.0)
    with pytest.raises(exc.FanslyRateLimitError, match="max_rate_limit_wait is 1 s"):
        hook.get_media_stats(DEFAULT_ACCOUNT, "m1", **DAY)
    assert 4 <= hook.counters.rate_limited <= 6  # 1 s of 0.2 s waits, then it gave up


def test_a_bad_connection_extra_is_refused_by_name(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = connection_json(emu.url, requests_per_minute="fast")
    monkeypatch.setenv("AIRFLOW_CONN_FANSLY_DEFAULT", conn)
    with pytest.raises(exc.FanslyInputError, match="'requests_per_minute' must be a whole number"):
        FanslyHook().get_media_stats(DEFAULT_ACCOUNT, "m1", **DAY)
    assert served(emu) == 0
