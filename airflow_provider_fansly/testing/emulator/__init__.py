"""A local emulator of the Fansly API's media-statistics route, for tests, demos and offline DAGs.

It answers like the vendor (see docs/emulator.md): both envelopes, every error shape, the
``/api/fansly/accounts`` route, rate-limit headers and 429s over a sliding window, credits,
UTC-aligned buckets newest first including the bucket at ``beforeDate``, the 100-bucket cap,
quiet buckets, and deterministic stats from :mod:`..synthetic`. Faults are injected over HTTP
(``POST /_emulator/faults``) so a running emulator can be steered from another process.

Modules: :mod:`.state` (configuration, counters, window, faults queued), :mod:`.answers` (the
answers' shapes), :mod:`.faults` (what a fault does), :mod:`.server` (HTTP), :mod:`.cli`.
Run it with ``fansly-emulator --port 8765``; in Python, ``with Emulator() as emu: emu.url``.
"""

from __future__ import annotations

from airflow_provider_fansly.testing.emulator.cli import main
from airflow_provider_fansly.testing.emulator.server import Emulator
from airflow_provider_fansly.testing.emulator.state import (
    DEFAULT_ACCOUNT,
    DEFAULT_KEY,
    EmulatorConfig,
    EmulatorState,
)

__all__ = ["DEFAULT_ACCOUNT", "DEFAULT_KEY", "Emulator", "EmulatorConfig", "EmulatorState", "main"]
