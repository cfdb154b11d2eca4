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


ACCOUNTS = (
    SandboxAccount(
        "customerio",
        "sandbox-site-us",
        "us",
        {
            "site_id": "sandbox-site-us",
            "track_api_key": "sandbox-track-key-us",
            "app_api_key": "sandbox-app-key-us",
        },
        "SharpSend demo workspace",
    ),
    SandboxAccount(
        "customerio",
        "sandbox-site-eu",
        "eu",
        {
            "site_id": "sandbox-site-eu",
            "track_api_key": "sandbox-track-key-eu",
            "app_api_key": "sandbox-app-key-eu",
        },
        "SharpSend EU workspace",
    ),
    SandboxAccount(
        "iterable", "sandbox-project-us", "us", {"api_key": "sandbox-iterable-server-key-us"},
        "SharpSend demo project",
    ),
    SandboxAccount(
        "iterable", "sandbox-project-eu", "eu", {"api_key": "sandbox-iterable-server-key-eu"},
        "SharpSend EU project",
    ),
    SandboxAccount(
        "iterable", "sandbox-project-us", "us", {"api_key": "sandbox-iterable-readonly-key-us"},
        "SharpSend demo project", read_only=True,
    ),
)


def accounts_for(platform: str) -> list[SandboxAccount]:
    return [a for a in ACCOUNTS if a.platform == platform]


def demo_account(platform: str) -> SandboxAccount:
    """The account `seed_demo` connects to: the first writable one."""
    return next(a for a in accounts_for(platform) if not a.read_only)


def find(platform: str, **credentials) -> SandboxAccount | None:
    for account in accounts_for(platform):
        if all(account.credentials.get(k) == v for k, v in credentials.items()):
            return account
    return None
