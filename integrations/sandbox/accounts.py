"""The sandbox's accounts and their obviously fake credentials.

`make run` connects one demo integration per platform to the first account listed here.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class SandboxAccount:
    platform: str
    account: str
    region: str
    credentials: dict
    name: str
    read_only: bool = False
    # What the account is for, shown on the sandbox index (/sandbox/) when the account's kind
    # (working, read-only, other region) does not say it; see integrations.sandbox.catalog.
    purpose: str = ""


def all_accounts() -> list[SandboxAccount]:
    """Every emulator's accounts (each emulator module lists its own in ACCOUNTS)."""
    from integrations.sandbox.registry import emulators

    return [account for module in emulators().values() for account in module.ACCOUNTS]


def accounts_for(platform: str) -> list[SandboxAccount]:
    return [a for a in all_accounts() if a.platform == platform]


def demo_account(platform: str) -> SandboxAccount:
    """The account `seed_demo` connects to: the first writable one."""
    return next(a for a in accounts_for(platform) if not a.read_only)


def find(platform: str, **credentials) -> SandboxAccount | None:
    for account in accounts_for(platform):
        if all(account.credentials.get(k) == v for k, v in credentials.items()):
            return account
    return None
