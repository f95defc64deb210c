"""Validate the ids that go into request paths, before any request is sent."""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["MAX_ID_LENGTH", "check_id", "path_segment"]

MAX_ID_LENGTH = 128
_FORBIDDEN = ("/", "\\", "..", "?", "#", "%")


def check_id(value: object, what: str) -> str:
    """Return ``value`` if it is a safe id, else raise ``ValueError`` saying what is wrong."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(f"{what} is {len(value)} characters long; at most {MAX_ID_LENGTH}")
    bad = [token for token in _FORBIDDEN if token in value]
    if bad or any(ch.isspace() or not ch.isprintable() for ch in value):
        shown = ", ".join(repr(b) for b in bad) or "whitespace or control characters"
        raise ValueError(f"{what} {value!r:.60} is not a safe id: it contains {shown}")
    return value


def path_segment(value: str, what: str) -> str:
    """Return a checked id URL-encoded for use as one path segment."""
    return quote(check_id(value, what), safe="")
