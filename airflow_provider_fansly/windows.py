"""Compatibility path: the window helpers live in :mod:`airflow_provider_fansly.client.windows`."""

from __future__ import annotations

from airflow_provider_fansly.client.windows import *  # noqa: F403
from airflow_provider_fansly.client.windows import __all__ as __all__
