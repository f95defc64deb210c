"""Deprecated path, removed in 0.7: the window helpers live in
:mod:`airflow_provider_fansly.client.windows`."""

from __future__ import annotations

from airflow_provider_fansly.client import windows as _moved
from airflow_provider_fansly.deprecation import moved_module

__all__: list[str] = []  # every name warns: import it from the new path
__getattr__ = moved_module(__name__, _moved)
