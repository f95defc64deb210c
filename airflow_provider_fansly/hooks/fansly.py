"""FanslyHook: a ``fansly`` connection turned into a :class:`~..client.FanslyClient`.

The hook reads the key, the base URL and the limits from the connection, masks the key in
logs, and hands every call to the client (:meth:`get_conn`), which knows nothing of Airflow.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook

from airflow_provider_fansly.client.engine import RequestCounters
from airflow_provider_fansly.client.fansly import FanslyClient
from airflow_provider_fansly.client.models import MediaStats
from airflow_provider_fansly.client.pacing import RateLimiter
from airflow_provider_fansly.client.retry import RetryPolicy
from airflow_provider_fansly.client.settings import ClientSettings
from airflow_provider_fansly.client.windows import DATAPOINT_LIMIT, DAY_MS
from airflow_provider_fansly.deprecation import moved_names
from airflow_provider_fansly.exceptions import FanslyAuthError, FanslyError, RequestContext

__all__ = ["FanslyHook", "RequestCounters"]

#: ``HookSettings``, the name 0.4 gave :class:`ClientSettings`, still imports (with a warning).
__getattr__ = moved_names(
    __name__, {"HookSettings": "airflow_provider_fansly.client.settings.ClientSettings"}
)


class FanslyHook(BaseHook):
    """Talk to the Fansly API with the key and settings of a ``fansly`` connection.

    :param fansly_conn_id: the connection; the key is its password, the base URL its host,
        and its extras the fields of :class:`~..client.settings.ClientSettings`.
    :param max_requests: a budget of requests for this hook's life (overrides the extra).
    :param max_rate_limit_wait: the most seconds one request waits out 429s (overrides the
        extra; ``0`` fails on the first 429).
    :param rate_limit_wait_cap: an upper bound on that wait, whichever set it (a task keeps it
        within its ``execution_timeout``).
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
        rate_limit_wait_cap: float | None = None,
    ) -> None:
        super().__init__()
        self.fansly_conn_id = fansly_conn_id
        self._max_requests = max_requests
        self._max_rate_limit_wait = max_rate_limit_wait
        self._rate_limit_wait_cap = rate_limit_wait_cap
        #: what this hook has sent, readable even when the connection could not be read
        self.counters = RequestCounters()

    def __repr__(self) -> str:
        return f"FanslyHook(fansly_conn_id={self.fansly_conn_id!r})"

    @cached_property
    def settings(self) -> ClientSettings:
        """The connection's key, address and limits, read once and checked."""
        from airflow.sdk.log import mask_secret

        conn = self.get_connection(self.fansly_conn_id)
        if not conn.password:
            raise FanslyAuthError(
                f"connection {self.fansly_conn_id!r} has no API key (set its password)",
                RequestContext(route="connection"),
            )
        mask_secret(conn.password)
        settings = ClientSettings.from_connection(conn.host, conn.password, conn.extra_dejson)
        if self._max_requests is not None:
            settings = replace(settings, max_requests=self._max_requests)
        if self._max_rate_limit_wait is not None:
            settings = replace(settings, max_rate_limit_wait=self._max_rate_limit_wait)
        if self._rate_limit_wait_cap is not None:
            wait = min(settings.max_rate_limit_wait, self._rate_limit_wait_cap)
            settings = replace(settings, max_rate_limit_wait=wait)
        return settings

    @cached_property
    def client(self) -> FanslyClient:
        """The API client of this connection, made on first use and kept for the hook's life."""
        return FanslyClient(self.settings, counters=self.counters, log=self.log)

    def get_conn(self) -> FanslyClient:
        """Return the API client (Airflow's name for a hook's underlying connection)."""
        return self.client

    @property
    def limiter(self) -> RateLimiter:
        """The pacing shared by every request this hook sends, sync or async."""
        return self.client.limiter

    @property
    def policy(self) -> RetryPolicy:
        """The retry bounds: a count for failures, a time for 429s."""
        return self.client.policy

    @property
    def max_requests(self) -> int | None:
        """The request budget of this hook, or ``None`` for no budget."""
        return self.settings.max_requests

    @property
    def datapoint_limit(self) -> int:
        """The most buckets one answer holds, as the API last reported it (100 at first)."""
        return self.client.datapoint_limit if "client" in self.__dict__ else DATAPOINT_LIMIT

    def get_media_stats(
        self, account_id: str, media_offer_id: str, *, after: int, before: int, period: int = DAY_MS
    ) -> MediaStats:
        """Return the datapoints of ``[after, before)`` and the media metadata (see
        :meth:`FanslyClient.get_media_stats <..client.fansly.FanslyClient.get_media_stats>`)."""
        return self.client.get_media_stats(
            account_id, media_offer_id, after=after, before=before, period=period
        )

    async def aget_media_stats(
        self, account_id: str, media_offer_id: str, *, after: int, before: int, period: int = DAY_MS
    ) -> MediaStats:
        """Async :meth:`get_media_stats`: same rules, for fetching many offers concurrently."""
        return await self.client.aget_media_stats(
            account_id, media_offer_id, after=after, before=before, period=period
        )

    def list_accounts(self, *, retry: bool = True) -> list[Any]:
        """Return the accounts connected to this key (``GET /api/fansly/accounts``)."""
        return self.client.list_accounts(retry=retry)

    def test_connection(self) -> tuple[bool, str]:
        """List the connected accounts, once: the cheapest call that proves the key works."""
        try:
            accounts = self.list_accounts(retry=False)
        except (FanslyError, ValueError) as exc:
            return False, f"Connection failed: {exc}"
        finally:
            self.close()
        return True, f"Connected: the key sees {len(accounts)} account(s)"

    def __enter__(self) -> FanslyHook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the sync connection pool (the async one closes with :meth:`aclose`)."""
        if "client" in self.__dict__:
            self.client.close()

    async def aclose(self) -> None:
        """Close the async connection pool; call it before the event loop ends."""
        if "client" in self.__dict__:
            await self.client.aclose()
