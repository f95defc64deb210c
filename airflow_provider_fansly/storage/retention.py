"""How short a vacuum's retention may be (no Delta import: the operator checks it when parsed)."""

from __future__ import annotations

from datetime import timedelta

__all__ = ["MIN_RETENTION", "check_retention"]

#: The shortest retention vacuum accepts. Vacuum also deletes files no commit names yet, once
#: they are older than the retention: a writer's files stay unnamed from their write until its
#: commit, so the retention must outlast any write (seconds to minutes here) by a wide margin.
MIN_RETENTION = timedelta(hours=1)


def check_retention(retention: timedelta) -> None:
    """Refuse a retention under :data:`MIN_RETENTION`, naming why."""
    if retention < MIN_RETENTION:
        raise ValueError(
            f"retention must be at least {MIN_RETENTION} (got {retention}): vacuum deletes "
            "files no commit names yet once they are older than the retention, and a shorter "
            "one could delete the files of a commit another task is writing"
        )
