"""Client-side pacing shared by every request of one hook: a sliding window, the key's remaining
room, and an adaptive rate that backs off on throttling.

The pacing assumes the server's window slides, as the vendor's does: a send counts against the
key for ``window`` seconds after it. Three rules, the strictest wins:

- **Hard window.** No ``limit + 1`` sends of this client fall within one window (plus a small
  margin for network jitter), where the limit is ``requests_per_minute`` (a cap: the task's own
  share of the key, so nothing else slows it) or the ``X-RateLimit-Limit`` the server reports.
- **Shared budget** (without ``requests_per_minute``, other clients may share the key). Each
  answer's ``X-RateLimit-Remaining`` is the key's room. This client's budget becomes what it
  sent within the last window plus a part of that room above a small reserve (``RESERVE``):
  its share of the window's sends, at least ``TAKE``, during its first window, when the room
  may be everyone's start; all of it later, when room that opens means others slowed or
  stopped. Room below the reserve is given back in proportion to the share. Sends stay within
  the budget per window, evenly spaced, so when the key is full each client only replaces its
  own sends as they leave the window: together they hold the key at its limit less the
  reserve, without knowing how many they are. Room opening later is taken ``HASTE`` times
  faster than a window, so a task left alone speeds up within seconds.
- **Adaptive rate** (as the AWS SDKs' adaptive retry mode). Every 429 pauses every request for
  the server's advice. One without advice (the platform's own, wrapped in a 200, says nothing
  of its quota) also cuts this client's rate to ``BACKOFF`` times what it was sending; the rate
  doubles every ``RECOVERY_WINDOWS`` windows without such a 429.

The first request goes alone; the others wait for its answer, so no client spends the key's
room blind. A slot is claimed only when it is due (``HORIZON``), so each send follows the
latest answer.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

__all__ = ["RateLimiter"]


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


class RateLimiter:
    """Reserve send times under the configured cap, the key's budget and the adaptive rate.

    :param requests_per_minute: a hard cap for this client; ``None`` learns the limit from
        ``X-RateLimit-Limit`` and shares the key by ``X-RateLimit-Remaining``.
    :param window: the server's sliding window in seconds (60 for the vendor).
    """

    TAKE = 0.25
    HASTE = 4.0
    RESERVE = 0.02
    MIN_RESERVE = 2
    BACKOFF = 0.7
    RECOVERY_WINDOWS = 2.0
    MEASURE = 10.0
    PROBE_WAIT = 5.0
    POLL = 0.02
    HORIZON = 0.05

    def __init__(
        self,
        requests_per_minute: int | None = None,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.configured = requests_per_minute
        #: seconds on a monotonic clock; a test hands in a virtual one
        self.clock = clock
        self.learned: int | None = None
        #: the key's room as the last answer said it
        self.remaining: int | None = None
        #: this client's share of the key per window, from the last answer (shared keys only)
        self.budget: int | None = None
        self._spacing = 0.0
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

    @property
    def reserve_size(self) -> int:
        """Requests of the key's room left free, for sends in flight that no answer counted."""
        return max(self.MIN_RESERVE, math.ceil(self.RESERVE * (self.learned or 0)))

    def reserve(self, now: float | None = None) -> tuple[bool, float]:
        """Claim the next free send slot if it is due within ``HORIZON`` seconds.

        Return ``(True, wait)`` when claimed, else ``(False, wait)``: how long until the slot,
        to ask again then. Nothing is claimed far ahead, so a send always follows the latest
        budget the server reported.
        """
        now = self.clock() if now is None else now
        with self._lock:
            at = self._earliest(max(now, self._paused_until))
            if at - now > self.HORIZON:
                return False, at - now
            self._sent.append(at)
            if self._probe_sent is None:
                self._probe_sent = at
            return True, at - now

    def _earliest(self, at: float) -> float:
        """The earliest send time from ``at`` under the window, the budget and the rate."""
        while self._sent and self._sent[0] <= at - 2 * self.window:
            self._sent.popleft()  # kept two windows: an answer's view may be that old
        if not self._sent:
            return at
        rate = self.fill_rate(at)
        if rate:
            at = max(at, self._sent[-1] + 1.0 / rate)
        limit = self.limit
        if limit and len(self._sent) >= limit:
            at = max(at, self._sent[-limit] + self.window + self.margin)
        budget = self.budget
        if budget is not None and self.configured is None:
            at = max(at, self._sent[-1] + self._spacing)
            if len(self._sent) >= budget:
                at = max(at, self._sent[-budget] + self.window)
        return at

    def paused_for(self, now: float | None = None) -> float:
        """Return how long a 429 still holds every request back (0 when it does not)."""
        now = self.clock() if now is None else now
        with self._lock:
            return max(0.0, self._paused_until - now)

    def held_for(self, now: float | None = None) -> float:
        """Return how long to wait before reserving a slot (0: go ahead).

        A 429's pause; and at the start, while the first request is out, until its answer
        says what the key has left (polled, at most ``PROBE_WAIT`` seconds), so that tasks
        starting together do not each spend a burst of the key's budget blind.
        """
        now = self.clock() if now is None else now
        held = self.paused_for(now)
        with self._lock:
            sent = self._probe_sent
            if sent is not None and not self._answered and now < sent + self.PROBE_WAIT:
                held = max(held, self.POLL)
        return held

    def pause(self, seconds: float, now: float | None = None) -> None:
        """Hold back every request of this limiter for ``seconds``."""
        now = self.clock() if now is None else now
        with self._lock:
            self._paused_until = max(self._paused_until, now + seconds)

    def throttled(self, seconds: float, advised: bool, now: float | None = None) -> None:
        """A 429: pause for ``seconds``. One without the server's advice (the platform's own,
        which says nothing of its quota) also cuts the rate below what was being sent."""
        now = self.clock() if now is None else now
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
        now = self.clock() if now is None else now
        elapsed = max(0.0, now - self._throttled_at)
        return self._base_rate * 2 ** (elapsed / (self.RECOVERY_WINDOWS * self.window))

    def observe(
        self, headers: Mapping[str, str], sent_at: float | None = None, now: float | None = None
    ) -> None:
        """Learn the limit and the key's room from the rate-limit headers of an answer to the
        request sent at ``sent_at`` (``None``: just now)."""
        now = self.clock() if now is None else now
        limit = _header_int(headers, "x-ratelimit-limit")
        remaining = _header_int(headers, "x-ratelimit-remaining")
        with self._lock:
            self._answered = True
            if limit:
                self.learned = limit
            if remaining is None or "x-ratelimit-retry-after" in headers:
                return  # a 429's "0" is about the wait, said apart
            self.remaining = remaining
            if self.learned and self.configured is None:
                self.budget, self._spacing = self._share(
                    remaining, now if sent_at is None else sent_at, now
                )

    def _share(self, remaining: int, sent_at: float, now: float) -> tuple[int, float]:
        """This client's budget per window and the spacing of its sends, from an answer.

        The room is the answer's, less this client's sends the server had not counted yet,
        plus those that left the window since.
        """
        limit = self.learned or remaining
        sent, start = self._sent, now - self.window
        own = sum(1 for t in sent if t > start)
        uncounted = sum(1 for t in sent if t > sent_at)
        expired = sum(1 for t in sent if sent_at - self.window < t <= start)
        counted = sum(1 for t in sent if sent_at - self.window < t <= sent_at)
        room = remaining - uncounted + expired - self.reserve_size
        share = min(1.0, counted / max(1, limit - remaining))
        haste = 1.0
        if room <= 0:
            take = share
        elif self._probe_sent is not None and now - self._probe_sent >= self.window:
            take, haste = 1.0, self.HASTE
        else:
            take = max(share, self.TAKE)
        budget = int(min(limit, max(1.0, own + take * room)))
        return budget, self.window / max(1.0, own + take * room * haste)
