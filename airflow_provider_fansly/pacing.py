"""Client-side pacing: a sliding-window rate limiter shared by every request of one hook.

Each send reserves a time slot so that no ``limit + 1`` sends fall within one window (plus a
small margin for network jitter): bursts go out at once while the window has room, later sends
wait exactly as long as the server would make them. A 429 pauses every request of the hook,
and a low ``X-RateLimit-Remaining`` (other workers on the same key) spreads sends out evenly.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping

__all__ = ["RateLimiter"]


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


class RateLimiter:
    """Reserve send times under ``requests_per_minute``, or under the limit the server reports.

    :param requests_per_minute: this client's share of the plan; ``None`` learns the limit
        from ``X-RateLimit-Limit``.
    :param window: the server's sliding window in seconds (60 for the vendor).
    """

    LOW_WATER = 0.05

    def __init__(self, requests_per_minute: int | None = None, window: float = 60.0) -> None:
        self.configured = requests_per_minute
        self.learned: int | None = None
        self.window = window
        self.margin = max(0.25, 0.02 * window)
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._spread = False
        self._lock = threading.Lock()

    @property
    def limit(self) -> int | None:
        """The limit in force: the lower of the configured and the learned one."""
        known = [x for x in (self.configured, self.learned) if x]
        return min(known) if known else None

    def reserve(self, now: float | None = None) -> float:
        """Claim the next free send slot and return how many seconds to wait for it."""
        now = time.monotonic() if now is None else now
        with self._lock:
            at = max(now, self._paused_until, self._sent[-1] if self._sent else now)
            limit = self.limit
            if limit:
                while self._sent and self._sent[0] <= at - self.window - self.margin:
                    self._sent.popleft()
                if len(self._sent) >= limit:
                    at = max(at, self._sent[-limit] + self.window + self.margin)
                if self._spread and self._sent:
                    at = max(at, self._sent[-1] + self.window / limit)
            self._sent.append(at)
            return at - now

    def paused_for(self, now: float | None = None) -> float:
        """Return how long a 429 still holds every request back (0 when it does not)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return max(0.0, self._paused_until - now)

    def pause(self, seconds: float, now: float | None = None) -> None:
        """Hold back every request of this limiter for ``seconds`` (after a 429)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._paused_until = max(self._paused_until, now + seconds)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the limit and how much of it is left from an answer's rate-limit headers."""
        limit = _header_int(headers, "x-ratelimit-limit")
        remaining = _header_int(headers, "x-ratelimit-remaining")
        with self._lock:
            if limit:
                self.learned = limit
            if limit and remaining is not None:
                self._spread = remaining <= max(1, int(limit * self.LOW_WATER))
