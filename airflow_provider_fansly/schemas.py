"""Compatibility path: the row rules (pandera schemas) live in :mod:`.storage.rules`."""

from __future__ import annotations

from airflow_provider_fansly.storage.rules import *  # noqa: F403
from airflow_provider_fansly.storage.rules import __all__ as __all__
