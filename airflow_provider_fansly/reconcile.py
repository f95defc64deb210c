"""Compatibility path: the answer checks live in :mod:`airflow_provider_fansly.client.reconcile`."""

from __future__ import annotations

from airflow_provider_fansly.client.reconcile import *  # noqa: F403
from airflow_provider_fansly.client.reconcile import __all__ as __all__
