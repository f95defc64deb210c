"""FanslyHook: the connection, the one request path, pacing, retries and window splitting.

Every request goes through :meth:`FanslyHook._exchange`, a generator that decides *what* to do
(pace, send, parse, retry, wait) without doing any I/O; :meth:`_drive` (threads) and
:meth:`_adrive` (asyncio) only carry out its sends and sleeps. So the sync and async clients
share one set of rules and differ only in how they wait.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, replace
from functools import cached_property, partial
from typing import Any, TypeVar

import httpx
from airflow.sdk import BaseHook

from airflow_provider_fansly.envelope import Dataset, parse_media_stats, unwrap
from airflow_provider_fansly.exceptions import (
    FanslyAuthError,
    FanslyBudgetExceededError,
    FanslyError,
    FanslyRateLimitError,
    FanslyRequestError,
    FanslyTransportError,
    RequestContext,
)
from airflow_provider_fansly.ids import path_segment
from airflow_provider_fansly.models import MediaOffer, MediaStats
from airflow_provider_fansly.pacing import RateLimiter
from airflow_provider_fansly.reconcile import Answered, Question, reconcile
from airflow_provider_fansly.retry import RetryPolicy, Tries
from airflow_provider_fansly.settings import HookSettings
from airflow_provider_fansly.windows import DATAPOINT_LIMIT, DAY_MS, check_window, split_window

__all__ = ["FanslyHook", "HookSettings", "RequestCounters"]

T = TypeVar("T")


@dataclass(frozen=True)
class _Send:
    request: httpx.Request


@dataclass(frozen=True)
class _Sleep:
    seconds: float


_Action = _Send | _Sleep
#: status, body, headers, context -> the parsed answer (or one precise exception)
_Parse = Callable[[int, bytes, Mapping[str, str], RequestContext], T]
_Plan = Generator[_Action, Any, T]


class RequestCounters:
    """What a hook has sent so far: requests, retries, 429s and cut answers (thread-safe)."""

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


class FanslyHook(BaseHook):
    """Talk to the Fansly API with the key and settings of a ``fansly`` connection.

    :param fansly_conn_id: the connection; the key is its password, the base URL its host,
        and its extras the fields of :class:`HookSettings`.
    :param max_requests: a budget of requests for this hook's life (overrides the extra).
    :param max_rate_limit_wait: the most seconds one request waits out 429s (overrides the
        extra).
    """

    conn_name_attr = "fansly_conn_id"
    default_conn_name = "fansly_default"
    conn_type = "fansly"
    hook_name = "Fansly"

    def __init__(
        self,
        fansly_conn_id: str = default_conn_name,
        *,
        max_requests: int | None = None,
        max_rate_limit_wait: float | None = None,
    ) -> None:
        super().__init__()
        self.fansly_conn_id = fansly_conn_id
        self._max_requests = max_requests
        self._max_rate_limit_wait = max_rate_limit_wait
        self.counters = RequestCounters()
        #: the most buckets an answer holds (the boundary one included), as the API reports it
        self.datapoint_limit = DATAPOINT_LIMIT
        self._aclient: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"FanslyHook(fansly_conn_id={self.fansly_conn_id!r})"

    # -- settings ---------------------------------------------------------------------------
    @cached_property
    def settings(self) -> HookSettings:
        """The connection's key, address and limits, read once and checked."""
        from airflow.sdk.log import mask_secret

        conn = self.get_connection(self.fansly_conn_id)
        if not conn.password:
            raise FanslyAuthError(
                f"connection {self.fansly_conn_id!r} has no API key (set its password)",
                RequestContext(route="connection"),
            )
        mask_secret(conn.password)
        settings = HookSettings.from_connection(conn.host, conn.password, conn.extra_dejson)
        if self._max_requests is not None:
            settings = replace(settings, max_requests=self._max_requests)
        if self._max_rate_limit_wait is not None:
            settings = replace(settings, max_rate_limit_wait=self._max_rate_limit_wait)
        return settings

    @cached_property
    def limiter(self) -> RateLimiter:
        """The pacing shared by every request this hook sends, sync or async."""
        return RateLimiter(
            self.settings.requests_per_minute, window=self.settings.rate_window_seconds
        )

    @cached_property
    def policy(self) -> RetryPolicy:
        """The retry bounds: a count for failures, a time for 429s."""
        return RetryPolicy(
            max_retries=self.settings.max_retries,
            backoff_base=self.settings.retry_backoff_seconds,
            max_rate_limit_wait=self.settings.max_rate_limit_wait,
        )

    @property
    def max_requests(self) -> int | None:
        """The request budget of this hook, or ``None`` for no budget."""
        return self.settings.max_requests

    def _client_options(self) -> dict[str, Any]:
        return {
            "base_url": self.settings.base_url,
            "headers": {"x-api-key": self.settings.api_key, "accept": "application/json"},
            "timeout": self.settings.timeout,
            "follow_redirects": False,
            "verify": True,
        }

    @cached_property
    def _client(self) -> httpx.Client:
        return httpx.Client(**self._client_options())

    def _async_client(self) -> httpx.AsyncClient:
        if self._aclient is None:
            self._aclient = httpx.AsyncClient(
                limits=httpx.Limits(max_connections=64), **self._client_options()
            )
        return self._aclient

    def __enter__(self) -> FanslyHook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the sync client (the async one closes with :meth:`aclose`)."""
        if "_client" in self.__dict__:
            self._client.close()
            del self.__dict__["_client"]

    async def aclose(self) -> None:
        """Close the async client; call it before the event loop ends."""
        if self._aclient is not None:
            await self._aclient.aclose()
            self._aclient = None

    # -- the one request path ---------------------------------------------------------------
    def _pace(self) -> Generator[_Action, Any, None]:
        """Wait for a send slot; a pause that starts meanwhile (a 429) is waited out first."""
        for _ in range(100_000):
            held = self.limiter.held_for()
            if held > 0:
                yield _Sleep(held)
                continue
            granted, wait = self.limiter.reserve()
            yield _Sleep(wait)
            if granted and self.limiter.paused_for() <= 0:
                return
        raise FanslyError("pacing did not find a free slot in 100,000 tries")

    def _spend(self, ctx: RequestContext) -> None:
        budget = self.max_requests
        if budget is not None and self.counters.requests >= budget:
            raise FanslyBudgetExceededError(
                f"the request budget max_requests={budget} is used up; not sending {ctx.describe()}"
            )
        self.counters.add(requests=1)

    def _exchange(
        self,
        route: str,
        params: dict[str, int],
        ctx: RequestContext,
        parse: _Parse[T],
        policy: RetryPolicy | None = None,
    ) -> _Plan[T]:
        """Send one logical request with pacing and retries; return its parsed payload.

        Failures are retried a bounded number of times; 429s are waited out for a bounded
        time (the server's advice each time), as the server is still answering.
        """
        policy = policy or self.policy
        tries = Tries()
        for _ in range(policy.max_sends):
            yield from self._pace()
            self._spend(ctx)
            reply = yield _Send(self._client.build_request("GET", route, params=params))
            try:
                result = self._interpret(reply, ctx, parse)
            except FanslyRequestError as error:
                delay = tries.after(error, policy)
                self._note_retry(error, tries, delay)
                if isinstance(error, FanslyRateLimitError):
                    self.limiter.throttled(delay, advised=error.retry_after is not None)
                else:
                    yield _Sleep(delay)
                continue
            return result
        raise FanslyError(f"gave up on {ctx.describe()} after {policy.max_sends} sends")

    def _interpret(self, reply: Any, ctx: RequestContext, parse: _Parse[T]) -> T:
        if isinstance(reply, httpx.TransportError):
            kind = "timed out" if isinstance(reply, httpx.TimeoutException) else "failed"
            raise FanslyTransportError(
                f"the request {kind} ({type(reply).__name__})", ctx
            ) from reply
        self.limiter.observe(reply.headers)
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

    def _drive(self, plan: _Plan[T]) -> T:
        """Carry out a plan with blocking sleeps and the sync client."""
        reply: Any = None
        try:
            while True:
                action = plan.send(reply)
                reply = None
                if isinstance(action, _Sleep):
                    time.sleep(max(0.0, action.seconds))
                else:
                    try:
                        reply = self._client.send(action.request)
                    except httpx.TransportError as exc:
                        reply = exc
        except StopIteration as done:
            return done.value

    async def _adrive(self, plan: _Plan[T]) -> T:
        """Carry out a plan with asyncio sleeps and the async client."""
        reply: Any = None
        try:
            while True:
                action = plan.send(reply)
                reply = None
                if isinstance(action, _Sleep):
                    await asyncio.sleep(max(0.0, action.seconds))
                else:
                    try:
                        reply = await self._async_client().send(action.request)
                    except httpx.TransportError as exc:
                        reply = exc
        except StopIteration as done:
            return done.value

    # -- media statistics --------------------------------------------------------------------
    def _media_stats_plan(
        self, account_id: str, media_offer_id: str, after: int, before: int, period: int
    ) -> _Plan[MediaStats]:
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
            dataset, answered = yield from self._exchange(
                route, params, ctx, partial(_answer, question)
            )
            result.requests += 1
            if answered.covered_from > lo:  # cut: ask for the older part again
                self._learn_limit(answered.limit, ctx)
                older = split_window(lo, answered.covered_from, period, self.datapoint_limit - 1)
                pending.extendleft(reversed(older))
            result.times.extend(answered.rows.times)
            result.stats.extend(answered.rows.stats)
            result.unknown_fields |= dataset.unknown_fields
            result.media = _merge_media(result.media, dataset.media)
        return result

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

    def get_media_stats(
        self,
        account_id: str,
        media_offer_id: str,
        *,
        after: int,
        before: int,
        period: int = DAY_MS,
    ) -> MediaStats:
        """Return the datapoints of ``[after, before)`` (epoch ms, UTC) and the media metadata.

        The window is split into the fewest requests that each stay under the answer's
        bucket limit (100, or what the API reports). Every answer is checked against its
        request (:mod:`..reconcile`): another media offer or period, or buckets outside the
        window, are refused (asked once more, then raised); a cut answer's older part is asked
        again. Only the bucket the API adds at ``beforeDate`` is dropped.
        """
        return self._drive(
            self._media_stats_plan(account_id, media_offer_id, after, before, period)
        )

    async def aget_media_stats(
        self,
        account_id: str,
        media_offer_id: str,
        *,
        after: int,
        before: int,
        period: int = DAY_MS,
    ) -> MediaStats:
        """Async :meth:`get_media_stats`: same rules, for fetching many offers concurrently."""
        return await self._adrive(
            self._media_stats_plan(account_id, media_offer_id, after, before, period)
        )

    # -- accounts and connection test -------------------------------------------------------
    def list_accounts(self, *, retry: bool = True) -> list[Any]:
        """Return the accounts connected to this key (``GET /api/fansly/accounts``)."""
        policy = None if retry else RetryPolicy(max_retries=0, max_rate_limit_wait=0)
        plan = self._exchange(
            "/api/fansly/accounts", {}, RequestContext("accounts"), _accounts, policy
        )
        return self._drive(plan)

    def test_connection(self) -> tuple[bool, str]:
        """List the connected accounts, once: the cheapest call that proves the key works."""
        try:
            accounts = self.list_accounts(retry=False)
        except (FanslyError, ValueError) as exc:
            return False, f"Connection failed: {exc}"
        finally:
            self.close()
        return True, f"Connected: the key sees {len(accounts)} account(s)"


def _answer(
    question: Question, status: int, body: bytes, headers: Mapping[str, str], ctx: RequestContext
) -> tuple[Dataset, Answered]:
    """Parse one answer and check it against its question (a mismatch is retried once)."""
    dataset = parse_media_stats(status, body, headers, ctx)
    return dataset, reconcile(dataset, question, ctx)


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
