"""RunSummary: what one task did, counted as it goes and returned to XCom as a small dict."""

from __future__ import annotations

from dataclasses import dataclass, field

from airflow_provider_fansly.client.windows import DATAPOINT_LIMIT

__all__ = ["RunSummary"]


@dataclass
class RunSummary:
    """What one run did; returned to XCom as a small dict."""

    account_id: str
    media_offers: int
    window: tuple[int, int]
    period_ms: int
    estimated_requests: int
    #: The ``media_stats`` table's URI (no credentials).
    table: str = ""
    #: The lake as the task was given it (a connection id perhaps, never a secret).
    output_path: str = ""
    datapoint_limit: int = DATAPOINT_LIMIT
    cut_answers: int = 0
    reused_requests: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    rows: int = 0
    #: the For-You-page tag rows committed to ``fyp_tags``
    tags: int = 0
    days: int = 0
    table_version: int | None = None
    commit_conflicts: int = 0
    #: ``False`` when ``media_offers`` kept conflicting after the data commit (see the log)
    media_offers_updated: bool = True
    validation_warnings: int = 0
    gone: list[str] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)
    #: the rules each invalid media offer broke, as ``storage.rules.rules`` names them
    invalid_rules: dict[str, list[str]] = field(default_factory=dict)
    unknown_stat_types: dict[str, int] = field(default_factory=dict)
    unknown_fields: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line for the task log: what was committed, and what it cost."""
        version = (
            "nothing to media_stats (every media offer answered gone)"
            if self.table_version is None
            else f"media_stats version {self.table_version}"
        )
        return (
            f"{version}: {self.rows} row(s) over {self.days} day(s), "
            f"{self.commit_conflicts} commit conflict(s) retried; {self.requests} request(s) "
            f"({self.estimated_requests} estimated), {self.retries} retried, "
            f"{self.validation_warnings} validation warning(s)"
        )
