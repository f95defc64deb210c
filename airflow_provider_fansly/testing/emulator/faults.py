"""The faults the emulator can inject: what replaces an answer, what corrupts its data."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["ANSWER_FAULTS", "DATA_FAULTS", "EXTRA_NUMBER", "QUESTION_FAULTS", "corrupt"]

#: The number the ``extra_fields`` fault adds: above 2**53, where a float would lose digits.
EXTRA_NUMBER = 2**60 + 7

#: Fault kinds that replace the answer, and kinds that corrupt a successful dataset.
ANSWER_FAULTS = {
    "server_error",
    "bad_gateway_html",
    "truncated",
    "reset",
    "slow",
    "upstream_error",
    "upstream_error_outer",
    "rate_limit",
    "status",
}
DATA_FAULTS = {
    "negative_tag",
    "negative_counts",
    "off_grid",
    "duplicate_bucket",
    "unknown_stat_type",
    "extra_fields",
    "wrong_types",
    "unique_gt_views",
    "short_coverage",
    "seconds",
    "wrong_media",
}
#: Faults that change which question the answer is for (the period asked is ignored).
QUESTION_FAULTS = {"ignored_period"}


def corrupt(response: dict[str, Any], kind: str, period: int) -> None:
    """Make a successful dataset invalid in the way ``kind`` names (in place)."""
    if kind == "short_coverage":
        response["dataset"]["dateAfter"] += period
        return
    if kind == "wrong_media":
        response["dataset"]["datasetMediaOfferId"] += "-other"
        return
    if kind == "negative_tag":
        for tag in response["dataset"]["topFypTags"][:1]:
            tag["views"] = -1
        return
    if kind == "seconds":
        for point in response["dataset"]["datapoints"]:
            point["timestamp"] //= 1000
        return
    points = response["dataset"]["datapoints"]
    with_stats = [p for p in points if p["stats"]] or points
    if not with_stats:
        return
    point = with_stats[-1]  # the oldest: inside the window (the newest may be at beforeDate)
    stat = point["stats"][0] if point["stats"] else None
    if kind == "off_grid":
        point["timestamp"] += period // 2
    elif kind == "duplicate_bucket":
        twin = json.loads(json.dumps(point))
        for s in twin["stats"]:
            s["views"] += 5
            s["uniqueViewers"] += 1
        points.append(twin)
    elif stat is None:
        return
    elif kind == "negative_counts":
        stat["views"] = -3
    elif kind == "unknown_stat_type":
        point["stats"].append({**stat, "type": 97})
    elif kind == "extra_fields":
        for s in point["stats"]:
            s["newShinyMetric"] = EXTRA_NUMBER
            s["newLabel"] = "shiny"
    elif kind == "wrong_types":
        stat["views"] = "many"
    elif kind == "unique_gt_views":
        stat["uniqueViewers"] = stat["views"] + 10
