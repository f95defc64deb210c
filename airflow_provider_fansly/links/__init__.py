"""Operator extra links: the buttons Airflow shows on a task (provider convention)."""
