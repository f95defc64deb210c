"""What a quality check found: one finding per problem, with its scope, numbers and status."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

__all__ = ["Finding", "Severity", "Status", "counts", "problem", "report"]

Severity = Literal["warn", "error"]
Status = Literal["passed", "warned", "failed"]


@dataclass(frozen=True)
class Finding:
    """One check's verdict on one scope (an account, a media offer, a day; ``None``: all).

    A check that finds nothing gives one ``passed`` finding with no scope, so every run
    records every check.
    """

    check_id: str
    status: Status
    severity: Severity
    message: str
    account_id: str | None = None
    media_offer_id: str | None = None
    day: date | None = None
    observed: float | None = None
    threshold: float | None = None
    sample: list[dict[str, Any]] = field(default_factory=list)
    advice: str = ""

    def sample_json(self) -> str:
        """The sample rows as JSON (dates and times as ISO strings)."""
        return json.dumps(self.sample, default=str)

    def scope(self) -> str:
        """Account / media offer / day, as far as the finding names them."""
        parts = [p for p in (self.account_id, self.media_offer_id, self.day) if p is not None]
        return " / ".join(map(str, parts)) or "the lake"


def problem(severity: Severity) -> Status:
    """The status of a finding that is a problem: ``warned`` or ``failed`` by severity."""
    return "failed" if severity == "error" else "warned"


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings have each status (every status present, zero or not)."""
    found = Counter(f.status for f in findings)
    return {status: found.get(status, 0) for status in ("passed", "warned", "failed")}


def report(findings: list[Finding]) -> str:
    """One readable report: failures first, then warnings, each with its numbers and advice,
    then the checks that passed."""
    order = {"failed": 0, "warned": 1, "passed": 2}
    lines = []
    for f in sorted(findings, key=lambda f: (order[f.status], f.check_id, f.scope())):
        numbers = ""
        if f.observed is not None:
            numbers = f" (observed {f.observed:g}"
            numbers += f", threshold {f.threshold:g})" if f.threshold is not None else ")"
        line = f"{f.status.upper():7} {f.check_id} [{f.scope()}]: {f.message}{numbers}"
        lines.append(line + (f" -> {f.advice}" if f.advice and f.status != "passed" else ""))
    return "\n".join(lines)
