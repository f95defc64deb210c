"""The request engine: one logical request as an I/O-free plan of sends and sleeps.

A plan is a generator: it yields :class:`Send` (the driver sends it and hands back the
response or the transport error) and :class:`Sleep` (the driver waits), and returns the parsed
result. Pacing, the request budget, retries and window splitting all live here, so the sync
and async drivers of :class:`~airflow_provider_fansly.client.fansly.FanslyClient` share one
set of rules and differ only in how they wait.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar

import httpx

from airflow_provider_fansly.client.envelope import StatsResponse, parse_media_stats, unwrap
from airflow_provider_fansly.client.ids import path_segment
from airflow_provider_fansly.client.models import MediaOffer, MediaStats, TagWindow
from airflow_provider_fansly.client.pacing import RateLimiter
from airflow_provider_fansly.client.profilestats import ProfileStats, parse_profile_stats
from airflow_provider_fansly.client.reconcile import Answered, Question, reconcile
from airflow_provider_fansly.client.retry import RetryPolicy, Tries
from airflow_provider_fansly.client.settings import ClientSettings
from airflow_provider_fansly.client.windows import DATAPOINT_LIMIT, check_window, split_window
from airflow_provider_fansly.exceptions import (
    FanslyBudgetExceededError,
    FanslyError,
    FanslyInputError,
    FanslyRateLimitError,
    FanslyRequestError,
    FanslyTransportError,
    RequestContext,
)

__all__ = ["Log", "Plan", "RequestCounters", "RequestEngine", "Send", "Sleep"]

T = TypeVar("T")


@dataclass(frozen=True)
class Send:
    """Send ``GET route?params`` and hand back the ``httpx.Response`` or transport error."""

    route: str
    params: Mapping[str, int]


@dataclass(frozen=True)
class Sleep:
    """Wait this many seconds before going on."""

    seconds: float


Plan = Generator[Send | Sleep, Any, T]
#: status, body, headers, context -> the parsed answer (or one precise exception)
_Parse = Callable[[int, bytes, Mapping[str, str], RequestContext], T]


class Log(Protocol):
    """The part of a logger the client uses: stdlib's, or an Airflow task's."""

    def info(self, event: Any, *args: Any) -> Any: ...

    def warning(self, event: Any, *args: Any) -> Any: ...

    def error(self, event: Any, *args: Any) -> Any: ...


class RequestCounters:
    """What a client has sent so far: requests, retries, 429s and cut answers (thread-safe)."""

    def __init__(self) -> None:
        self.requests = 0
        self.retries = 0
        self.rate_limited = 0
        self.cut_answers = 0
        self._lock = threading.Lock()

    def add(
        self, *, requests: int = 0, retries: int = 0, rate_limited: int = 0, cut_answers: int = 0
    ) -> None:
        """Count what just happened."""
        with self._lock:
            self.requests += requests
            self.retries += retries
            self.rate_limited += rate_limited
            self.cut_answers += cut_answers


class RequestEngine:
    """Plan every request of one client: pacing, budget, retries, splitting, bucket cap.

    :param settings: the key's address, limits and budget.
    :param counters: where sends are counted (shared with whoever reports them).
    :param log: where retries and a smaller bucket cap are logged.
    :param clock: seconds on a monotonic clock, for the pacing (a test hands in a virtual one).
    """

    def __init__(
        self,
        settings: ClientSettings,
        counters: RequestCounters,
        log: Log,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.counters = counters
        self.log = log
        self.limiter = RateLimiter(
            settings.requests_per_minute, window=settings.rate_window_seconds, clock=clock
        )
        self.policy = RetryPolicy(
            max_retries=settings.max_retries,
            backoff_base=settings.retry_backoff_seconds,
            max_rate_limit_wait=settings.max_rate_limit_wait,
        )
        #: the most buckets an answer holds (the boundary one included), as the API reports it
        self.datapoint_limit = DATAPOINT_LIMIT

    # -- one logical request -------------------------------------------------------------------
    def exchange(
        self,
        route: str,
        params: Mapping[str, int],
        ctx: RequestContext,
        parse: _Parse[T],
        policy: RetryPolicy | None = None,
    ) -> Plan[T]:
        """Send one logical request with pacing and retries; return its parsed payload.

        Failures are retried a bounded number of times; 429s are waited out for a bounded
        time (the server's advice each time), as the server is still answering.
        """
        policy = policy or self.policy
        tries = Tries()
        for _ in range(policy.max_sends):
            self._check_budget(ctx)  # before waiting for a slot the budget cannot pay for
            yield from self._pace()
            self._spend(ctx)
            sent_at = self.limiter.clock()
            reply = yield Send(route, params)
            try:
                result = self._interpret(reply, ctx, parse, sent_at)
            except FanslyRequestError as error:
                delay = tries.after(error, policy)
                self._note_retry(error, tries, delay)
                if isinstance(error, FanslyRateLimitError):
                    self.limiter.throttled(delay, advised=error.retry_after is not None)
                else:
                    yield Sleep(delay)
                continue
            return result
        raise FanslyError(f"gave up on {ctx.describe()} after {policy.max_sends} sends")

    def _pace(self) -> Plan[None]:
        """Wait for a send slot; a pause that starts meanwhile (a 429) is waited out first."""
        for _ in range(100_000):
            held = self.limiter.held_for()
            if held > 0:
                yield Sleep(held)
                continue
            granted, wait = self.limiter.reserve()
            yield Sleep(wait)
            if granted and self.limiter.paused_for() <= 0:
                return
        raise FanslyError("pacing did not find a free slot in 100,000 tries")

    def _check_budget(self, ctx: RequestContext) -> None:
        budget = self.settings.max_requests
        if budget is not None and self.counters.requests >= budget:
            raise FanslyBudgetExceededError(
                f"this try's request budget max_requests={budget} is used up (retries and 429s "
                f"count); not sending {ctx.describe()}",
                during_run=True,
            )

    def _spend(self, ctx: RequestContext) -> None:
        self._check_budget(ctx)
        self.counters.add(requests=1)

    def _interpret(self, reply: Any, ctx: RequestContext, parse: _Parse[T], sent_at: float) -> T:
        if isinstance(reply, httpx.TransportError):
            kind = "timed out" if isinstance(reply, httpx.TimeoutException) else "failed"
            raise FanslyTransportError(
                f"the request {kind} ({type(reply).__name__})", ctx
            ) from reply
        self.limiter.observe(reply.headers, sent_at)
        return parse(reply.status_code, reply.content, reply.headers, ctx)

    def _note_retry(self, error: FanslyRequestError, tries: Tries, delay: float) -> None:
        self.counters.add(retries=1, rate_limited=isinstance(error, FanslyRateLimitError))
        if isinstance(error, FanslyRateLimitError):
            self.log.info(
                "Rate limited (%.0f s waited so far for this request), waiting %.1f s: %s",
                tries.throttled - delay,
                delay,
                error,
            )
        else:
            self.log.warning("Try %d failed, retrying in %.1f s: %s", tries.failures, delay, error)

    # -- the routes ----------------------------------------------------------------------------
    def media_stats(
        self, account_id: str, media_offer_id: str, after: int, before: int, period: int
    ) -> Plan[MediaStats]:
        """Plan ``[after, before)`` of one media offer in the fewest requests under the cap;
        a cut answer's older part is asked again."""
        route = (
            f"/api/fansly/{path_segment(account_id, 'account_id')}"
            f"/analytics/media/{path_segment(media_offer_id, 'media_offer_id')}"
        )
        check_window(after, before, period)
        result = MediaStats(account_id, media_offer_id, after, before, period)
        pending = deque(split_window(after, before, period, self.datapoint_limit - 1))
        while pending:
            lo, hi = pending.popleft()
            ctx = RequestContext("media statistics", account_id, media_offer_id, lo, hi, period)
            params = {"afterDate": lo, "beforeDate": hi, "period": period}
            question = Question(media_offer_id, lo, hi, period)
            response, answered = yield from self.exchange(
                route, params, ctx, partial(_answer, question)
            )
            result.requests += 1
            if answered.covered_from > lo:  # cut: ask for the older part again
                self._learn_limit(answered.limit, ctx)
                older = split_window(lo, answered.covered_from, period, self.datapoint_limit - 1)
                pending.extendleft(reversed(older))
            result.times.extend(answered.rows.times)
            result.stats.extend(answered.rows.stats)
            result.unknown_fields |= response.unknown_fields
            result.video |= response.video
            if response.tags:
                result.tags.append(TagWindow(answered.covered_from, hi, tuple(response.tags)))
            result.media = _merge_media(result.media, response.media)
        return result

    def profile_stats(
        self, account_id: str, after: int, before: int, period: int
    ) -> Plan[ProfileStats]:
        """Plan one ``profilestats`` request for ``[after, before)``: never split, as the
        window is the identity of its top lists; a window over the bucket cap is refused."""
        check_window(after, before, period)
        buckets = -(-(before - after) // period)
        if buckets > self.datapoint_limit - 1:
            raise FanslyInputError(
                f"a profilestats window holds at most {self.datapoint_limit - 1} buckets (its "
                f"top lists are of one window); [{after}, {before}) holds {buckets}"
            )
        route = f"/api/fansly/{path_segment(account_id, 'account_id')}/analytics/profilestats"
        ctx = RequestContext("account statistics", account_id, None, after, before, period)
        params = {"afterDate": after, "beforeDate": before, "period": period}
        parse = partial(_profile_answer, (after, before, period))
        return self.exchange(route, params, ctx, parse)

    def accounts(self, *, retry: bool = True) -> Plan[list[Any]]:
        """Plan ``GET /api/fansly/accounts``; without ``retry``, one send whatever it answers."""
        policy = None if retry else RetryPolicy(max_retries=0, max_rate_limit_wait=0)
        return self.exchange(
            "/api/fansly/accounts", {}, RequestContext("accounts"), _accounts, policy
        )

    def _learn_limit(self, limit: int, ctx: RequestContext) -> None:
        """Count a cut answer; from a smaller cap on, split every request to fit it (log once)."""
        self.counters.add(cut_answers=1)
        if limit >= self.datapoint_limit:
            return
        self.log.warning(
            "The API now caps answers at %d buckets (datapointLimit), not %d: %s was cut. Its "
            "older part and every request after it are sent in windows of %d bucket(s), so "
            "the task needs more requests than estimated",
            limit,
            self.datapoint_limit,
            ctx.describe(),
            limit - 1,
        )
        self.datapoint_limit = limit


def _answer(
    question: Question, status: int, body: bytes, headers: Mapping[str, str], ctx: RequestContext
) -> tuple[StatsResponse, Answered]:
    """Parse one answer and check it against its question (a mismatch is retried once)."""
    response = parse_media_stats(status, body, headers, ctx)
    return response, reconcile(response, question, ctx)


def _profile_answer(
    question: tuple[int, int, int],
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    ctx: RequestContext,
) -> ProfileStats:
    return parse_profile_stats(status, body, headers, ctx, question)


def _accounts(
    status: int, body: bytes, headers: Mapping[str, str], ctx: RequestContext
) -> list[Any]:
    return _as_list(unwrap(status, body, headers, ctx))


def _as_list(payload: Any) -> list[Any]:
    if isinstance(payload, dict):
        for key in ("accounts", "data", "items"):
            if isinstance(payload.get(key), list):
                return list(payload[key])
    return list(payload) if isinstance(payload, list) else [payload]


def _merge_media(known: list[MediaOffer], new: list[MediaOffer]) -> list[MediaOffer]:
    if not known:
        return list(new)
    by_id = {m.id: m for m in known}
    by_id.update((m.id, m) for m in new)
    return list(by_id.values())
