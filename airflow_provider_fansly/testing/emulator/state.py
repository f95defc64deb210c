"""The emulator's configuration and its state: counters, the sliding window, credits, faults."""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_fansly.client.windows import DATAPOINT_LIMIT
from airflow_provider_fansly.testing.emulator.faults import (
    ANSWER_FAULTS,
    DATA_FAULTS,
    QUESTION_FAULTS,
)

__all__ = ["DEFAULT_ACCOUNT", "DEFAULT_KEY", "EmulatorConfig", "EmulatorState"]

DEFAULT_KEY = "emulator-key"
DEFAULT_ACCOUNT = "fansly_demo"


@dataclass
class EmulatorConfig:
    """How the emulator behaves; every field can also be changed at run time."""

    api_keys: set[str] = field(default_factory=lambda: {DEFAULT_KEY})
    accounts: list[str] = field(default_factory=lambda: [DEFAULT_ACCOUNT, "fansly_agency_2"])
    rate_limit: int | None = None
    rate_window: float = 60.0
    plan: str = "Starter"
    latency: float = 0.0
    credits: int | None = None
    deleted_media: set[str] = field(default_factory=lambda: {"deleted-media"})
    #: how a permanent platform error comes back: "inner" (outer 200) or "outer" (outer 500)
    upstream_wrap: str = "inner"
    #: the most buckets an answer holds (``datapointLimit``): the newest ones are kept
    datapoint_limit: int = DATAPOINT_LIMIT
    #: the emulator's "now" in epoch ms (``None``: the wall clock); only the numbers of
    #: ``restated-`` media offers depend on it, so tests can fetch a day young, then old
    clock_ms: int | None = None
    #: the anomaly days of ``zero-``/``spike-``/``split-`` media offers, as ISO dates
    #: (default: every 20th day, see ``synthetic.anomaly_day``)
    anomaly_days: list[str] | None = None


class EmulatorState:
    """Counters, the sliding window, the credits and the fault queue, behind one lock."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.window: deque[float] = deque()
            self.faults: list[dict[str, Any]] = []
            self.counts = {"requests": 0, "rate_limited": 0, "credits_used": 0, "served": 0}
            self.log: list[dict[str, Any]] = []

    def admit(self, now: float) -> tuple[int | None, dict[str, str]]:
        """Apply the rate limit and credits; return (refusal status or None, headers)."""
        cfg = self.config
        with self.lock:
            self.counts["requests"] += 1
            while self.window and self.window[0] <= now - cfg.rate_window:
                self.window.popleft()
            headers = {"X-RateLimit-Plan": cfg.plan}
            if cfg.rate_limit is not None:
                headers["X-RateLimit-Limit"] = str(cfg.rate_limit)
                if len(self.window) >= cfg.rate_limit:
                    wait = self.window[0] + cfg.rate_window - now
                    headers["X-RateLimit-Remaining"] = "0"
                    headers["X-RateLimit-Retry-After"] = str(max(1, math.ceil(wait)))
                    self.counts["rate_limited"] += 1
                    return 429, headers
            if cfg.credits is not None and self.counts["credits_used"] >= cfg.credits:
                return 402, headers
            self.window.append(now)
            self.counts["credits_used"] += 1
            if cfg.rate_limit is not None:
                headers["X-RateLimit-Remaining"] = str(cfg.rate_limit - len(self.window))
            return None, headers

    def add_faults(self, faults: list[Any]) -> None:
        """Queue faults; each applies to its next ``times`` matching requests, once ``after``
        matching requests have passed untouched."""
        for fault in faults:
            known = ANSWER_FAULTS | DATA_FAULTS | QUESTION_FAULTS
            if not isinstance(fault, dict) or fault.get("kind") not in known:
                raise ValueError(f"unknown fault {fault!r:.80}")
        with self.lock:
            self.faults.extend({"times": 1, "media": "*", **f} for f in faults)

    def clear_faults(self) -> None:
        """Drop every queued fault (an outage ends)."""
        with self.lock:
            self.faults.clear()

    def take_fault(self, media: str | None, kinds: set[str]) -> dict[str, Any] | None:
        with self.lock:
            for fault in self.faults:
                if fault["kind"] in kinds and fault.get("media", "*") in ("*", media):
                    if fault.get("after", 0) > 0:  # this many matching requests pass first
                        fault["after"] -= 1
                        return None
                    fault["times"] -= 1
                    if fault["times"] <= 0:
                        self.faults.remove(fault)
                    return fault
        return None
