"""Development tools that start Airflow components for the demo, tests and benchmarks.

Not part of the installed package: they run only from a checkout of the repository.
"""
