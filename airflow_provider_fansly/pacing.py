"""Client-side pacing shared by every request of one hook: a sliding window, the key's remaining
budget, and an adaptive rate that backs off on throttling.

Three rules, the strictest wins:

- **Sliding window.** No ``limit + 1`` sends of this client fall within one window (plus a small
  margin for network jitter), where the limit is ``requests_per_minute`` (a hard cap) or the
  ``X-RateLimit-Limit`` the server reports. Bursts go out at once while the window has room.
- **Remaining budget.** Other tasks may share the key. Once ``X-RateLimit-Remaining`` falls
  below half the limit, sends are spaced so that the rest would last a ``1 / SHARE`` of the
  window. Every client on the key slows as the shared budget shrinks, so together they settle
  just under the limit instead of meeting it.
- **Adaptive rate** (as the AWS SDKs' adaptive retry mode). A 429, the vendor's or the
  platform's own one wrapped in a 200 (which carries no budget headers), pauses every request
  for the server's advice and cuts this client's rate to ``BACKOFF`` times what it was
  sending; each answer after that raises it by ``RECOVERY``.
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
    """Reserve send times under the configured cap, the key's budget and the adaptive rate.

    :param requests_per_minute: a hard cap for this client; ``None`` learns the limit from
        ``X-RateLimit-Limit`` and paces by the key's remaining budget.
    :param window: the server's sliding window in seconds (60 for the vendor).
    """

    SHARE = 4.0
    BACKOFF = 0.7
    RECOVERY = 1.02
    MEASURE = 10.0

    def __init__(self, requests_per_minute: int | None = None, window: float = 60.0) -> None:
        self.configured = requests_per_minute
        self.learned: int | None = None
        self.remaining: int | None = None
        #: requests per second after a throttle; ``None`` until the first one
        self.fill_rate: float | None = None
        self.window = window
        self.margin = max(0.25, 0.02 * window)
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
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
            at = max(now, self._paused_until)
            if self._sent:
                at = max(at, self._sent[-1] + self._gap())
            while self._sent and self._sent[0] <= at - self.window - self.margin:
                self._sent.popleft()
            limit = self.limit
            if limit and len(self._sent) >= limit:
                at = max(at, self._sent[-limit] + self.window + self.margin)
            self._sent.append(at)
            return at - now

    def _gap(self) -> float:
        """The least time between two sends under the budget and the adaptive rate."""
        gaps = [0.0]
        if self.remaining is not None and self.learned and self.remaining < self.learned / 2:
            gaps.append(self.window / (self.SHARE * max(self.remaining, 1)))
        if self.fill_rate:
            gaps.append(1.0 / self.fill_rate)
        return max(gaps)

    def paused_for(self, now: float | None = None) -> float:
        """Return how long a 429 still holds every request back (0 when it does not)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return max(0.0, self._paused_until - now)

    def pause(self, seconds: float, now: float | None = None) -> None:
        """Hold back every request of this limiter for ``seconds``."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._paused_until = max(self._paused_until, now + seconds)

    def throttled(self, seconds: float, now: float | None = None) -> None:
        """A 429: pause for the server's advice and cut the rate below what was being sent."""
        now = time.monotonic() if now is None else now
        self.pause(seconds, now)
        with self._lock:
            span = min(self.MEASURE, self.window)
            sending = sum(1 for t in self._sent if now - span < t <= now) / span
            floor = 1.0 / self.window
            current = min(self.fill_rate or sending, sending) if sending else self.fill_rate
            self.fill_rate = max(floor, self.BACKOFF * (current or floor))

    def answered(self) -> None:
        """An answer that was not a 429: let the adaptive rate recover a little."""
        with self._lock:
            if self.fill_rate:
                self.fill_rate *= self.RECOVERY

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the limit and how much of it is left from an answer's rate-limit headers."""
        limit = _header_int(headers, "x-ratelimit-limit")
        remaining = _header_int(headers, "x-ratelimit-remaining")
        with self._lock:
            if limit:
                self.learned = limit
            if remaining is not None and "x-ratelimit-retry-after" not in headers:
                self.remaining = remaining  # a 429's "0" is about the wait, said apart
