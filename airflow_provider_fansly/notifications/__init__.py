"""Notifiers: tell a person what the lake's tasks found, through Airflow's notifier interface."""

from airflow_provider_fansly.notifications.quality import QualityAlert, QualityMessage

__all__ = ["QualityAlert", "QualityMessage"]
