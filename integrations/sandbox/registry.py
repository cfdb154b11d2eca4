"""Which platforms the sandbox emulates, and how to give their accounts demo data."""

from importlib import import_module

from integrations.sandbox import accounts

EMULATORS = {
    "customerio": "integrations.sandbox.customerio",
    "iterable": "integrations.sandbox.iterable",
}


def emulated(slug: str) -> bool:
    return slug in EMULATORS


def seed(slug: str) -> None:
    """Create the demo segments of every sandbox account of `slug`."""
    module = import_module(EMULATORS[slug])
    for account in accounts.accounts_for(slug):
        if not account.read_only:
            module.seed_account(account)
