"""The Fansly API client: importable and usable without Airflow.

Layers, bottom up: :mod:`.windows` and :mod:`.ids` (pure values), :mod:`.models` and
:mod:`.datapoints` (what an answer holds), :mod:`.envelope` (parse the double envelope),
:mod:`.reconcile` (an answer against its question), :mod:`.retry` and :mod:`.pacing` (the
rules), :mod:`.engine` (one request as an I/O-free plan), :mod:`.fansly` (the httpx client
that carries plans out, sync and async).
"""

from __future__ import annotations

from airflow_provider_fansly.client.engine import RequestCounters
from airflow_provider_fansly.client.fansly import FanslyClient
from airflow_provider_fansly.client.models import Datapoint, MediaOffer, MediaStats
from airflow_provider_fansly.client.settings import DEFAULT_BASE_URL, ClientSettings

__all__ = [
    "DEFAULT_BASE_URL",
    "ClientSettings",
    "Datapoint",
    "FanslyClient",
    "MediaOffer",
    "MediaStats",
    "RequestCounters",
]
