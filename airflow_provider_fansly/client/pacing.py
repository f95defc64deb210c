"""Client-side pacing shared by every request of one hook: a sliding window, the key's remaining
budget, and an adaptive rate that backs off on throttling.

Three rules, the strictest wins:

- **Sliding window.** No ``limit + 1`` sends of this client fall within one window (plus a small
  margin for network jitter), where the limit is ``requests_per_minute`` (a hard cap) or the
  ``X-RateLimit-Limit`` the server reports.
- **Remaining budget.** Without ``requests_per_minute``, other tasks may share the key. Sends
  are spaced so that what ``X-RateLimit-Remaining`` says is left (less this client's sends
  since) would last ``1 / SHARE`` of the window. A configured cap is the task's own share:
  only the window holds it. Every client on the key slows as the shared budget shrinks, so
  together they settle under the limit instead of meeting it. The first request waits for
  nothing; the others wait for its answer, so no client spends a burst blind.
- **Adaptive rate** (as the AWS SDKs' adaptive retry mode). Every 429 pauses every request for
  the server's advice. One without advice (the platform's own, wrapped in a 200, says nothing
  of its quota) also cuts this client's rate to ``BACKOFF`` times what it was sending; the rate
  doubles every ``RECOVERY_WINDOWS`` windows without such a 429.

A slot is claimed only when it is due (``HORIZON``), so each send follows the latest budget.
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

    SHARE = 2.0
    BACKOFF = 0.7
    RECOVERY_WINDOWS = 2.0
    MEASURE = 10.0
    PROBE_WAIT = 5.0
    POLL = 0.02
    HORIZON = 0.05

    def __init__(self, requests_per_minute: int | None = None, window: float = 60.0) -> None:
        self.configured = requests_per_minute
        self.learned: int | None = None
        self.remaining: int | None = None
        self._base_rate: float | None = None
        self._throttled_at = 0.0
        self.window = window
        self.margin = max(0.25, 0.02 * window)
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._probe_sent: float | None = None
        self._answered = False
        self._lock = threading.Lock()

    @property
    def limit(self) -> int | None:
        """The limit in force: the lower of the configured and the learned one."""
        known = [x for x in (self.configured, self.learned) if x]
        return min(known) if known else None

    def reserve(self, now: float | None = None) -> tuple[bool, float]:
        """Claim the next free send slot if it is due within ``HORIZON`` seconds.

        Return ``(True, wait)`` when claimed, else ``(False, wait)``: how long until the slot,
        to ask again then. Nothing is claimed far ahead, so a send always follows the latest
        budget the server reported.
        """
        now = time.monotonic() if now is None else now
        with self._lock:
            at = max(now, self._paused_until)
            if self._sent:
                at = max(at, self._sent[-1] + self._gap(at))
            while self._sent and self._sent[0] <= at - self.window - self.margin:
                self._sent.popleft()
            limit = self.limit
            if limit and len(self._sent) >= limit:
                at = max(at, self._sent[-limit] + self.window + self.margin)
            if at - now > self.HORIZON:
                return False, at - now
            self._sent.append(at)
            if self._probe_sent is None:
                self._probe_sent = at
            if self.remaining is not None:
                self.remaining = max(0, self.remaining - 1)  # until the server says again
            return True, at - now

    def _gap(self, at: float) -> float:
        """The least time between two sends under the budget and the adaptive rate."""
        gaps = [0.0]
        if self.configured is None and self.remaining is not None and self.learned:
            # sharing the key with tasks of unknown number; a configured cap is this task's
            # own share, held by the window alone
            gaps.append(self.window / (self.SHARE * max(self.remaining, 1)))
        rate = self.fill_rate(at)
        if rate:
            gaps.append(1.0 / rate)
        return max(gaps)

    def paused_for(self, now: float | None = None) -> float:
        """Return how long a 429 still holds every request back (0 when it does not)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return max(0.0, self._paused_until - now)

    def held_for(self, now: float | None = None) -> float:
        """Return how long to wait before reserving a slot (0: go ahead).

        A 429's pause; and at the start, while the first request is out, until its answer
        says what the key has left (polled, at most ``PROBE_WAIT`` seconds), so that tasks
        starting together do not each spend a burst of the key's budget blind.
        """
        now = time.monotonic() if now is None else now
        held = self.paused_for(now)
        with self._lock:
            sent = self._probe_sent
            if sent is not None and not self._answered and now < sent + self.PROBE_WAIT:
                held = max(held, self.POLL)
        return held

    def pause(self, seconds: float, now: float | None = None) -> None:
        """Hold back every request of this limiter for ``seconds``."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._paused_until = max(self._paused_until, now + seconds)

    def throttled(self, seconds: float, advised: bool, now: float | None = None) -> None:
        """A 429: pause for ``seconds``. One without the server's advice (the platform's own,
        which says nothing of its quota) also cuts the rate below what was being sent."""
        now = time.monotonic() if now is None else now
        self.pause(seconds, now)
        if advised:
            return  # the key's budget headers pace the rest
        with self._lock:
            span = min(self.MEASURE, self.window)
            sending = sum(1 for t in self._sent if now - span < t <= now) / span
            self._base_rate = max(1.0 / self.window, self.BACKOFF * sending)
            self._throttled_at = now

    def fill_rate(self, now: float | None = None) -> float | None:
        """The adaptive rate (requests per second) in force, ``None`` when there is none.

        It starts at ``BACKOFF`` times what was being sent at the last 429 and doubles every
        ``RECOVERY_WINDOWS`` windows without one.
        """
        if self._base_rate is None:
            return None
        now = time.monotonic() if now is None else now
        elapsed = max(0.0, now - self._throttled_at)
        return self._base_rate * 2 ** (elapsed / (self.RECOVERY_WINDOWS * self.window))

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the limit and how much of it is left from an answer's rate-limit headers."""
        limit = _header_int(headers, "x-ratelimit-limit")
        remaining = _header_int(headers, "x-ratelimit-remaining")
        with self._lock:
            self._answered = True
            if limit:
                self.learned = limit
            if remaining is not None and "x-ratelimit-retry-after" not in headers:
                self.remaining = remaining  # a 429's "0" is about the wait, said apart
