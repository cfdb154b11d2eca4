"""How the console writes figures: one rule each, for the pages and the admin alike."""

from __future__ import annotations

NONE = "—"


def percent(rate: float | None) -> str:
    """A rate between 0 and 1 as "12.5 %" (— when there is none)."""
    return NONE if rate is None else f"{rate * 100:.1f} %"


def milliseconds(value: float | None) -> str:
    """A latency in milliseconds, rounded: "28 ms" (— when there is none)."""
    return NONE if value is None else f"{value:.0f} ms"


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """ "1 API call", "3 API calls" (the plural is the singular plus s unless given)."""
    return f"{count} {noun(count, singular, plural)}"


def noun(count: int, singular: str, plural: str | None = None) -> str:
    """The noun alone, agreeing with `count` (for a figure shown apart from its label)."""
    return singular if count == 1 else (plural or singular + "s")
