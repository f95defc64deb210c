"""``python -m airflow_provider_fansly.testing.emulator``: the same as ``fansly-emulator``."""

from airflow_provider_fansly.testing.emulator.cli import main

main()
