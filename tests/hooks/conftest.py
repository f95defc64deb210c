"""Close every hook a test made, so no socket outlives its test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_fansly.hooks.fansly import FanslyHook


@pytest.fixture(autouse=True)
def _close_hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    made: list[FanslyHook] = []
    original = FanslyHook.__init__

    def init(self: FanslyHook, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(FanslyHook, "__init__", init)
    yield
    for hook in made:
        hook.close()
