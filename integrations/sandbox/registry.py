"""Which platforms the sandbox emulates: the emulator modules named in EMULATOR_MODULES.

An emulator module defines PLATFORM (the slug), ACCOUNTS (its sandbox accounts),
`urlpatterns` (served under /sandbox/<slug>/) and `seed_account(account)` (demo data). Its
endpoints pass an `emulation.Emulator` gate (host, auth, faults, rate limit) declared in the
module as EMULATOR; it supplies only the hooks in which its platform differs.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from types import ModuleType

# One emulator per platform, by module (a module or a package under integrations/sandbox/).
# Emulators never import the clients: they answer as the real platform would.
EMULATOR_MODULES = (
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


@cache
def emulators() -> dict[str, ModuleType]:
    """slug → emulator module, each checked to declare what the sandbox serves."""
    found = {}
    for name in EMULATOR_MODULES:
        module = import_module(f"integrations.sandbox.{name}")
        missing = [a for a in ("PLATFORM", "ACCOUNTS", "urlpatterns", "seed_account")
                   if not hasattr(module, a)]  # fmt: skip
        if missing:
            raise ImportError(f"Emulator {name} lacks {', '.join(missing)}.")
        found[module.PLATFORM] = module
    return found


def emulated(slug: str) -> bool:
    return slug in emulators()


def demo_mappings(slug: str) -> tuple[tuple[str, str], ...] | None:
    """(source, target) the demo integration maps besides the platform's suggestions, where the
    emulator names them (its demo segments test a field of its own); None: not named."""
    return getattr(emulators()[slug], "DEMO_MAPPINGS", None)


def seed(slug: str) -> None:
    """Create the demo data of every writable sandbox account of `slug`."""
    from integrations.sandbox import accounts

    module = emulators()[slug]
    for account in accounts.accounts_for(slug):
        if not account.read_only:
            module.seed_account(account)
