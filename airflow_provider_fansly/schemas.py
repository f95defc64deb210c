"""Deprecated path, removed in 0.7: the row rules (pandera schemas) live in
:mod:`airflow_provider_fansly.storage.rules`."""

from __future__ import annotations

from airflow_provider_fansly.deprecation import moved_module
from airflow_provider_fansly.storage import rules as _moved

__all__: list[str] = []  # every name warns: import it from the new path
__getattr__ = moved_module(__name__, _moved)
