"""What the sandbox offers a user: each emulator's base URL and test credentials, and what
each is for. The sandbox index (/sandbox/) and the wizard's "Use the sandbox" read it here.

Everything comes from the emulators' ACCOUNTS and the platforms' declarations; the base URL is
settings.SANDBOX_BASE_URL, the one the workers use.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from integrations.platforms.registry import all_platforms
from integrations.platforms.types import AuthMethod
from integrations.sandbox import accounts
from integrations.sandbox.inapp import InApp
from integrations.sandbox.models import SandboxWebhook
from integrations.sandbox.outbound import ACTIVE
from integrations.sandbox.registry import emulators

WORKING, READ_ONLY, OTHER_REGION, OTHER = "working", "read-only", "other region", "other"
KIND_TITLES = {
    WORKING: "Working key",
    READ_ONLY: "Read-only key",
    OTHER_REGION: "Wrong-region key",
    OTHER: "Other key",
}


@dataclass(frozen=True)
class Credential:
    key: str  # the platform's credential key (CredentialField.key)
    label: str
    value: str
    secret: bool


@dataclass(frozen=True)
class SandboxKey:
    """One sandbox account's credentials, as the wizard's fields name them."""

    kind: str
    title: str
    account: str
    region: str  # its label, "" when the platform has one region
    region_key: str
    purpose: str
    fields: tuple[Credential, ...]


@dataclass(frozen=True)
class SandboxHook:
    """A webhook an emulated account holds, as the platform's settings page shows it: where
    it posts (without the query, where the console's token rides), what, and the signing key
    where the platform shows it there (Customer.io), "" elsewhere."""

    account: str
    name: str
    endpoint: str
    events: tuple[str, ...]
    active: bool
    signing_key: str


@dataclass(frozen=True)
class SandboxPlatform:
    slug: str
    label: str
    base_url: str
    credentials: tuple[SandboxKey, ...]
    oauth_authorize_url: str  # "" when the platform does not connect with OAuth
    oauth_account: str
    api_key: bool
    webhooks: tuple[SandboxHook, ...] = ()
    # Where the platform's webhooks are made in its own app: what its settings form asks.
    webhook_form: InApp | None = None
    accounts: tuple[str, ...] = ()
    # (account, secret) where the platform's app holds one secret for its webhooks (Drift's
    # Verification Token, Front's app secret), shown before any webhook is made.
    app_secrets: tuple[tuple[str, str], ...] = ()


def root_url() -> str:
    return settings.SANDBOX_BASE_URL.rstrip("/")


def base_url(slug: str) -> str:
    """The API base URL override that sends an integration of `slug` to its emulator."""
    return f"{root_url()}/{slug}"


def _kind(account, demo, platform) -> str:
    if account == demo:
        return WORKING
    if account.read_only:
        return READ_ONLY
    if account.purpose:
        return OTHER  # an account with its own story (its purpose says it)
    if len(platform.regions) > 1 and account.region != demo.region:
        return OTHER_REGION
    return OTHER


def _purpose(kind: str, account, demo, platform) -> str:
    if account.purpose:
        return account.purpose
    region = platform.regions.get(account.region, account.region)
    demo_region = platform.regions.get(demo.region, demo.region)
    if kind == WORKING:
        return (
            f"Full access: connects and syncs. The demo integration “{platform.label} "
            "(sandbox)” uses it."
        )
    if kind == READ_ONLY:
        return "A valid key that cannot write: the connection test refuses it and says why."
    if kind == OTHER_REGION:
        return (
            f"A key of another region: with Region {demo_region} the connection test refuses "
            f"it and names the right region; with Region {region} it connects."
        )
    return account.name


def _fields(account, platform) -> tuple[Credential, ...]:
    return tuple(
        Credential(field.key, field.label, str(account.credentials[field.key]), field.secret)
        for field in platform.credential_fields
        if account.credentials.get(field.key) not in (None, "")
    )


def _oauth_offered(platform) -> bool:
    module = emulators().get(platform.slug)
    return AuthMethod.OAUTH in platform.auth_methods and hasattr(module, "OAUTH")


def describe(platform) -> SandboxPlatform:
    """The sandbox of one emulated platform: base URL, test credentials, how OAuth connects."""
    demo = accounts.demo_account(platform.slug)
    rows = []
    for account in accounts.accounts_for(platform.slug):
        fields = _fields(account, platform)
        if not fields:
            continue  # an OAuth-only account: reached through the consent page, not by a key
        kind = _kind(account, demo, platform)
        rows.append(
            SandboxKey(
                kind=kind,
                title=KIND_TITLES[kind],
                account=account.name,
                region=platform.regions.get(account.region, account.region)
                if len(platform.regions) > 1
                else "",
                region_key=account.region,
                purpose=_purpose(kind, account, demo, platform),
                fields=fields,
            )
        )
    oauth = _oauth_offered(platform)
    form = getattr(getattr(emulators().get(platform.slug), "WEBHOOKS", None), "in_app", None)
    names = tuple(dict.fromkeys(a.account for a in accounts.accounts_for(platform.slug)))
    return SandboxPlatform(
        slug=platform.slug,
        label=platform.label,
        base_url=base_url(platform.slug),
        credentials=tuple(rows),
        oauth_authorize_url=f"{root_url()}/oauth/{platform.slug}/authorize" if oauth else "",
        oauth_account=demo.name if oauth else "",
        api_key=bool(platform.credential_fields),
        webhooks=_webhooks(platform.slug),
        webhook_form=form,
        accounts=names,
        app_secrets=tuple((a, form.app_secret(a)) for a in names)
        if form is not None and form.app_secret is not None
        else (),
    )


def _webhooks(slug: str) -> tuple[SandboxHook, ...]:
    declared = getattr(emulators().get(slug), "WEBHOOKS", None)
    if declared is None:
        return ()
    return tuple(
        SandboxHook(
            account=hook.account,
            name=hook.name or hook.remote_id,
            endpoint=urlunsplit(urlsplit(hook.url)._replace(query="", fragment="")),
            events=tuple(hook.events),
            active=hook.status == ACTIVE,
            signing_key=hook.secret if declared.secret_on_settings_page else "",
        )
        for hook in SandboxWebhook.objects.filter(platform=slug).order_by("account", "pk")
    )


def sandbox_platforms() -> list[SandboxPlatform]:
    """Every platform the sandbox emulates, in the registry's order."""
    return [describe(p) for p in all_platforms() if p.slug in emulators()]


def wizard_values(platform) -> dict:
    """What "Use the sandbox" puts in the wizard's credentials step: the base URL, the working
    account's region and its credentials (none for an OAuth-only platform)."""
    demo = accounts.demo_account(platform.slug)
    values = {"api_base_url": base_url(platform.slug), "credentials": {}}
    if platform.regions:
        values["region"] = demo.region
    for field in platform.credential_fields:
        if demo.credentials.get(field.key) not in (None, ""):
            values["credentials"][field.key] = str(demo.credentials[field.key])
    return values
