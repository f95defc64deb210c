"""FanslyClient: the Fansly API over HTTP, sync and async, with no Airflow in sight.

It carries out the plans of :class:`~.engine.RequestEngine` with httpx: :meth:`_drive` with
blocking sleeps and a sync client, :meth:`_adrive` with asyncio. Use it from any Python::

    with FanslyClient(ClientSettings(base_url=..., api_key=...)) as client:
        stats = client.get_media_stats("fansly_demo", "m1", after=..., before=...)
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, TypeVar

import httpx

from airflow_provider_fansly.client.engine import Log, Plan, RequestCounters, RequestEngine, Sleep
from airflow_provider_fansly.client.models import MediaStats
from airflow_provider_fansly.client.pacing import RateLimiter
from airflow_provider_fansly.client.profilestats import ProfileStats
from airflow_provider_fansly.client.retry import RetryPolicy
from airflow_provider_fansly.client.settings import ClientSettings
from airflow_provider_fansly.client.windows import DAY_MS

__all__ = ["FanslyClient"]

T = TypeVar("T")


class FanslyClient:
    """Fetch media statistics and accounts with one key's settings, pacing and budget.

    :param settings: the key, the base URL and the limits.
    :param counters: where sends are counted (a new set when not given).
    :param log: where retries are logged (this module's logger when not given).
    """

    def __init__(
        self,
        settings: ClientSettings,
        *,
        counters: RequestCounters | None = None,
        log: Log | None = None,
    ) -> None:
        self.settings = settings
        self.engine = RequestEngine(
            settings, counters or RequestCounters(), log or logging.getLogger(__name__)
        )
        self._sync: httpx.Client | None = None
        self._async: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"FanslyClient(base_url={self.settings.base_url!r})"

    @property
    def counters(self) -> RequestCounters:
        """What this client has sent so far."""
        return self.engine.counters

    @property
    def datapoint_limit(self) -> int:
        """The most buckets one answer holds, as the API last reported it (100 at first)."""
        return self.engine.datapoint_limit

    @property
    def limiter(self) -> RateLimiter:
        """The pacing shared by every request of this client, sync or async."""
        return self.engine.limiter

    @property
    def policy(self) -> RetryPolicy:
        """The retry bounds: a count for failures, a time for 429s."""
        return self.engine.policy

    # -- media statistics and accounts -------------------------------------------------------
    def get_media_stats(
        self, account_id: str, media_offer_id: str, *, after: int, before: int, period: int = DAY_MS
    ) -> MediaStats:
        """Return the datapoints of ``[after, before)`` (epoch ms, UTC) and the media metadata.

        The window is split into the fewest requests that each stay under the answer's
        bucket limit (100, or what the API reports). Every answer is checked against its
        request (:mod:`.reconcile`): another media offer or period, or buckets outside the
        window, are refused (asked once more, then raised); a cut answer's older part is asked
        again. Only the bucket the API adds at ``beforeDate`` is dropped.
        """
        return self._drive(
            self.engine.media_stats(account_id, media_offer_id, after, before, period)
        )

    async def aget_media_stats(
        self, account_id: str, media_offer_id: str, *, after: int, before: int, period: int = DAY_MS
    ) -> MediaStats:
        """Async :meth:`get_media_stats`: same rules, for fetching many offers concurrently."""
        return await self._adrive(
            self.engine.media_stats(account_id, media_offer_id, after, before, period)
        )

    def get_profile_stats(
        self, account_id: str, *, after: int, before: int, period: int = DAY_MS
    ) -> ProfileStats:
        """Return the account's statistics over ``[after, before)`` in one request: its
        traffic per bucket, its top media offers (by views and by For-You views) and tags,
        and the media behind them (:mod:`.profilestats`)."""
        return self._drive(self.engine.profile_stats(account_id, after, before, period))

    async def aget_profile_stats(
        self, account_id: str, *, after: int, before: int, period: int = DAY_MS
    ) -> ProfileStats:
        """Async :meth:`get_profile_stats`."""
        return await self._adrive(self.engine.profile_stats(account_id, after, before, period))

    def list_accounts(self, *, retry: bool = True) -> list[Any]:
        """Return the accounts connected to this key (``GET /api/fansly/accounts``)."""
        return self._drive(self.engine.accounts(retry=retry))

    async def alist_accounts(self, *, retry: bool = True) -> list[Any]:
        """Async :meth:`list_accounts`."""
        return await self._adrive(self.engine.accounts(retry=retry))

    async def ais_connected(self, account_id: str) -> bool:
        """Whether this key still lists ``account_id`` among its connected accounts (one
        request, ``GET /api/fansly/accounts``)."""
        return any(_names(entry, account_id) for entry in await self.alist_accounts())

    # -- the drivers ---------------------------------------------------------------------------
    def _options(self) -> dict[str, Any]:
        return {
            "base_url": self.settings.base_url,
            "headers": {"x-api-key": self.settings.api_key, "accept": "application/json"},
            "timeout": self.settings.timeout,
            "follow_redirects": False,
            "verify": True,
        }

    def _drive(self, plan: Plan[T]) -> T:
        """Carry out a plan with blocking sleeps and the sync client."""
        if self._sync is None:
            self._sync = httpx.Client(**self._options())
        reply: Any = None
        try:
            while True:
                action = plan.send(reply)
                if isinstance(action, Sleep):
                    time.sleep(max(0.0, action.seconds))
                    reply = None
                    continue
                try:
                    reply = self._sync.get(action.route, params=dict(action.params))
                except httpx.TransportError as exc:
                    reply = exc
        except StopIteration as done:
            return done.value

    async def _adrive(self, plan: Plan[T]) -> T:
        """Carry out a plan with asyncio sleeps and the async client."""
        if self._async is None:
            self._async = httpx.AsyncClient(
                limits=httpx.Limits(max_connections=64), **self._options()
            )
        reply: Any = None
        try:
            while True:
                action = plan.send(reply)
                if isinstance(action, Sleep):
                    await asyncio.sleep(max(0.0, action.seconds))
                    reply = None
                    continue
                try:
                    reply = await self._async.get(action.route, params=dict(action.params))
                except httpx.TransportError as exc:
                    reply = exc
        except StopIteration as done:
            return done.value

    # -- closing -------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the sync connection pool (the async one closes with :meth:`aclose`)."""
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    async def aclose(self) -> None:
        """Close the async connection pool; call it before the event loop ends."""
        if self._async is not None:
            await self._async.aclose()
            self._async = None

    def __enter__(self) -> FanslyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> FanslyClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _names(entry: Any, account_id: str) -> bool:
    """Whether one entry of the accounts list is ``account_id`` (an id, or an object with it)."""
    if isinstance(entry, dict):
        return account_id in (entry.get("id"), entry.get("accountId"), entry.get("account_id"))
    return bool(entry == account_id)
