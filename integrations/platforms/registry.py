"""The registry of platforms: slug → client class. Everything asks it, nothing compares names."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from integrations.platforms.base import PlatformClient

# The platforms, by module: each registers its client class on import (done on first use).
# Adding a platform is adding its module and naming it here.
PLATFORM_MODULES = (
    "braze",
    "campaign_monitor",
    "crisp",
    "customerio",
    "drift",
    "front",
    "iterable",
    "keap",
    "kit",
    "klaviyo",
    "mailchimp",
    "sendgrid",
)

_registry: dict[str, type[PlatformClient]] = {}
_loaded = False


def register(cls: type[PlatformClient]) -> type[PlatformClient]:
    """Class decorator: make a platform client known by its slug."""
    _registry[cls.slug] = cls
    return cls


def _load() -> None:
    global _loaded
    if not _loaded:
        for name in PLATFORM_MODULES:
            import_module(f"integrations.platforms.{name}")
        _loaded = True


def get_platform(slug: str) -> type[PlatformClient]:
    _load()
    try:
        return _registry[slug]
    except KeyError:
        raise LookupError(f"No platform is registered as '{slug}'.") from None


def all_platforms() -> list[type[PlatformClient]]:
    _load()
    return sorted(_registry.values(), key=lambda cls: cls.label)


def platform_choices() -> list[tuple[str, str]]:
    """Choices for Integration.platform (evaluated lazily by Django)."""
    return [(cls.slug, cls.label) for cls in all_platforms()]
