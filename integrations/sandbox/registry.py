"""Which platforms the sandbox emulates: every module here that names a PLATFORM.

An emulator module defines PLATFORM (the slug), ACCOUNTS (its sandbox accounts),
`urlpatterns` (served under /sandbox/<slug>/) and `seed_account(account)` (demo data). Its
endpoints pass an `emulation.Emulator` gate (host, auth, faults, rate limit) declared in the
module as EMULATOR; it supplies only the hooks in which its platform differs.
"""

from __future__ import annotations

import pkgutil
from functools import cache
from importlib import import_module
from types import ModuleType


@cache
def emulators() -> dict[str, ModuleType]:
    package = import_module("integrations.sandbox")
    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg or info.name.startswith("_"):
            continue
        module = import_module(f"integrations.sandbox.{info.name}")
        if hasattr(module, "PLATFORM") and hasattr(module, "urlpatterns"):
            found[module.PLATFORM] = module
    return found


def emulated(slug: str) -> bool:
    return slug in emulators()


def seed(slug: str) -> None:
    """Create the demo data of every writable sandbox account of `slug`."""
    from integrations.sandbox import accounts

    module = emulators()[slug]
    for account in accounts.accounts_for(slug):
        if not account.read_only:
            module.seed_account(account)
