"""Clients sharing one key on a virtual clock: each is a real ``RequestEngine`` whose plans
(pace, send, retry a 429 after the server's advice) are carried out against a server with a
sliding window, so hours of pacing take a fraction of a second and what is tested is the loop
the client runs, not a copy of it."""

from __future__ import annotations

import heapq
import json
import logging
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from airflow_provider_fansly.client.engine import Plan, RequestCounters, RequestEngine, Send
from airflow_provider_fansly.client.settings import ClientSettings
from airflow_provider_fansly.testing.emulator.answers import envelope


@dataclass
class Key:
    """The server's side: ``limit`` sends per sliding ``window`` seconds, 429 beyond; or, with
    ``fixed``, per window counted from each multiple of ``window``."""

    limit: int
    window: float
    fixed: bool = False
    arrivals: deque[float] = field(default_factory=deque)

    def admit(self, at: float) -> tuple[int, dict[str, str]]:
        reset = math.floor(at / self.window) * self.window  # the fixed window's start
        while self.arrivals and (
            self.arrivals[0] < reset if self.fixed else self.arrivals[0] <= at - self.window
        ):
            self.arrivals.popleft()
        headers = {"x-ratelimit-limit": str(self.limit)}
        if len(self.arrivals) >= self.limit:
            wait = (reset if self.fixed else self.arrivals[0]) + self.window - at
            headers |= {"x-ratelimit-remaining": "0", "x-ratelimit-retry-after": str(
                max(1, math.ceil(wait)))}  # fmt: skip
            return 429, headers
        self.arrivals.append(at)
        return 200, headers | {"x-ratelimit-remaining": str(self.limit - len(self.arrivals))}


@dataclass
class Outcome:
    """What the clients saw: sends, 429s, the span from the first send to the last answer, each
    client's send times, and the outside consumer's sends and 429s."""

    sends: int
    throttled: int
    span: float
    sends_of: list[list[float]]
    outside_sends: int = 0
    outside_throttled: int = 0


def share_key(
    requests: list[int],
    limit: int,
    window: float,
    *,
    cap: int | None = None,
    in_flight: int = 16,
    latency: tuple[float, float] = (0.002, 0.01),
    starts: list[float] | None = None,
    outside: float = 0.0,
    fixed: bool = False,
    seed: int = 1,
) -> Outcome:
    """Clients with ``requests[i]`` requests each share one key; return what happened.

    ``outside`` is the share of the key a steady outside consumer takes, from a window before
    the clients start; it never retries.
    """
    rnd = random.Random(seed)
    key = Key(limit, window, fixed)
    events: list[tuple[float, int, Callable[[float], None]]] = []
    order = iter(range(10**9))
    clock = [0.0]

    def at(when: float, fn: Callable[[float], None]) -> None:
        heapq.heappush(events, (when, next(order), fn))

    settings = ClientSettings(api_key="sim", requests_per_minute=cap, rate_window_seconds=window)
    engines = [
        RequestEngine(settings, RequestCounters(), _QUIET, clock=lambda: clock[0]) for _ in requests
    ]
    unstarted = list(requests)
    out = Outcome(0, 0, 0.0, [[] for _ in requests])
    answers: list[float] = []

    def lane(i: int, now: float) -> None:
        """Start client ``i``'s next request, if it has one left."""
        if unstarted[i] > 0:
            unstarted[i] -= 1
            step(i, engines[i].accounts(), None, now)

    def step(i: int, plan: Plan[Any], reply: Any, now: float) -> None:
        """Carry the plan on until it waits: a sleep or a send takes virtual time."""
        try:
            action = plan.send(reply)
        except StopIteration:
            lane(i, now)
            return
        if isinstance(action, Send):
            took = rnd.uniform(*latency)
            out.sends += 1
            out.sends_of[i].append(now)
            status, headers = key.admit(now + took / 2)
            out.throttled += status == 429
            at(now + took, lambda t: answered(i, plan, _response(status, headers), t))
        else:
            at(now + max(0.0, action.seconds), lambda t: step(i, plan, None, t))

    def answered(i: int, plan: Plan[Any], response: httpx.Response, now: float) -> None:
        answers.append(now)
        step(i, plan, response, now)

    def steady(now: float) -> None:
        status, _ = key.admit(now)
        out.outside_sends += 1
        out.outside_throttled += status == 429
        if any(n > 0 for n in unstarted):
            at(now + window / (outside * limit), steady)

    for i in range(len(requests)):
        for _ in range(in_flight):
            at((starts[i] if starts else 0.0) + rnd.uniform(0, 0.01), lambda t, i=i: lane(i, t))
    if outside:
        at(-window, steady)
    for _ in range(10_000_000):  # bounded: every event is a send, an answer or a wait
        if not events:
            break
        clock[0], _, fn = heapq.heappop(events)
        fn(clock[0])
    first = min(times[0] for times in out.sends_of if times)
    out.span = max(answers) - first
    return out


_QUIET = logging.getLogger("keysim")
_QUIET.disabled = True
#: the accounts route's answer: the vendor's own route, one envelope
_OK = json.dumps(envelope(200, "Success", [{"id": "sim"}])).encode()
_THROTTLED = json.dumps(envelope(429, "Too many requests", None)).encode()


def _response(status: int, headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(status, headers=headers, content=_OK if status == 200 else _THROTTLED)


def key_rate_minimum(requests: int, limit: int, window: float, outside: float = 0.0) -> float:
    """(N - 1) x W / L: the least time N requests take at the key's full rate (of what an
    outside consumer leaves)."""
    return (requests - 1) * window / (limit * (1 - outside))


def most_in_a_window(times: list[float], window: float) -> int:
    """The most of ``times`` that fall within any ``window`` seconds."""
    ordered, most, start = sorted(times), 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        most = max(most, end - start + 1)
    return most
