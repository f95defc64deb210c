"""A client's settings: the key, the base URL and the limits, typed and checked once.

The hook reads them from a ``fansly`` connection (password, host, extras); plain Python
builds them directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_fansly.exceptions import FanslyInputError

__all__ = ["DEFAULT_BASE_URL", "ClientSettings"]

DEFAULT_BASE_URL = "https://v1.apifansly.com"


@dataclass(frozen=True)
class ClientSettings:
    """The key, the base URL and the limits of one client (a connection's password, host, extras).

    :param timeout: seconds for one HTTP request.
    :param requests_per_minute: a hard cap per task; without it the hook learns the key's
        limit from the answers and shares it with other tasks on the key.
    :param rate_window_seconds: the server's sliding window (60 for the vendor).
    :param max_retries: retries of a failed request (5xx, transport error, truncated answer).
    :param retry_backoff_seconds: the first retry's wait; it doubles, with jitter.
    :param max_requests: a budget of requests per task.
    :param max_rate_limit_wait: the most seconds one request waits out 429s before failing.
    :param monthly_credits: the key's monthly plan; a run that would exceed it is refused.
    """

    base_url: str = DEFAULT_BASE_URL
    api_key: str = field(default="", repr=False)
    timeout: float = 30.0
    requests_per_minute: int | None = None
    rate_window_seconds: float = 60.0
    max_retries: int = 5
    retry_backoff_seconds: float = 1.0
    max_requests: int | None = None
    max_rate_limit_wait: float = 900.0
    monthly_credits: int | None = None

    @classmethod
    def from_connection(
        cls, host: str | None, password: str, extra: Mapping[str, Any]
    ) -> ClientSettings:
        """Read a connection's host, password and extras; refuse a bad value by name."""
        base = (host or DEFAULT_BASE_URL).rstrip("/")
        if "://" not in base:
            base = f"https://{base}"
        values = {
            name: _checked(name, extra[name])
            for name in _RULES
            if extra.get(name) not in (None, "")
        }
        return cls(base_url=base, api_key=password, **values)


#: extra -> (its type, the least value allowed)
_RULES: dict[str, tuple[Callable[[Any], Any], float]] = {
    "timeout": (float, 0.001),
    "requests_per_minute": (int, 1),
    "rate_window_seconds": (float, 0.001),
    "max_retries": (int, 0),
    "retry_backoff_seconds": (float, 0.0),
    "max_requests": (int, 0),
    "max_rate_limit_wait": (float, 0.0),
    "monthly_credits": (int, 1),
}


def _checked(name: str, value: Any) -> Any:
    """One extra as its type, or a clear error naming it."""
    convert, least = _RULES[name]
    try:
        number = convert(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number < least:
        kind = "a whole number" if convert is int else "a number"
        raise FanslyInputError(
            f"the fansly connection's extra {name!r} must be {kind} of at least {least:g}, "
            f"got {value!r}"
        )
    return number
