"""Tasks in separate processes sharing one key, with no rate configured, all finish."""

from __future__ import annotations

from pathlib import Path

from airflow_provider_fansly.client.windows import HOUR_MS, request_count
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator, EmulatorConfig
from devtools.workers import finish, start_worker
from tests.lake import lake_rows, truth

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
AFTER, BEFORE = D0, D0 + 12 * 24 * HOUR_MS  # 3 requests per media offer
WORKERS, MEDIA_PER_WORKER = 4, 12
LIMIT, WINDOW = 30, 2.0  # the key's limit: 30 requests per 2 s


def test_four_processes_on_one_key_finish_with_few_429s(tmp_path: Path) -> None:
    config = EmulatorConfig(rate_limit=LIMIT, rate_window=WINDOW)
    groups = [[f"w{w}m{m:02d}" for m in range(MEDIA_PER_WORKER)] for w in range(WORKERS)]
    with Emulator(config) as emu:
        workers = [
            start_worker(
                tmp_path,
                emu,
                AFTER,
                BEFORE,
                ids=ids,
                period=HOUR_MS,
                max_in_flight=16,
                extra={"rate_window_seconds": WINDOW},
            )
            for ids in groups
        ]
        summaries = [finish(w, timeout=300) for w in workers]
        counts = dict(emu.state.counts)
    needed = WORKERS * MEDIA_PER_WORKER * request_count(AFTER, BEFORE, HOUR_MS)
    assert counts["served"] == needed  # every task finished, nothing bought twice
    assert counts["rate_limited"] <= 0.1 * counts["requests"], counts
    assert sum(s["rate_limited"] for s in summaries) == counts["rate_limited"]
    every = [m for ids in groups for m in ids]
    assert lake_rows(tmp_path, HOUR_MS) == truth(DEFAULT_ACCOUNT, every, AFTER, BEFORE, HOUR_MS)
