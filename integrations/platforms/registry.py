"""The registry of platforms: slug → client class. Everything asks it, nothing compares names."""

from __future__ import annotations

import pkgutil
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from integrations.platforms.base import PlatformClient

# Every other module of this package is one platform that registers itself on import (on first
# use: they import the models). Adding a platform is adding its module.
_NOT_PLATFORMS = {"auth", "base", "errors", "registry", "rules", "types"}

_registry: dict[str, type[PlatformClient]] = {}
_loaded = False


def register(cls: type[PlatformClient]) -> type[PlatformClient]:
    """Class decorator: make a platform client known by its slug."""
    _registry[cls.slug] = cls
    return cls


def _load() -> None:
    global _loaded
    if not _loaded:
        package = import_module("integrations.platforms")
        for info in pkgutil.iter_modules(package.__path__):
            if info.name not in _NOT_PLATFORMS and not info.name.startswith("_"):
                import_module(f"integrations.platforms.{info.name}")
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
