"""The one policy for every URL the console calls out to.

Outside the sandbox a platform is reached only over https on a host it publishes (each
platform declares them, regions and instances included). The sandbox is the console's own
emulators at `SANDBOX_BASE_URL`, exactly that origin, and only while the sandbox is enabled:
a URL that merely ends in `/sandbox/<slug>` on another host is refused.

Names are checked when a base URL is saved and every time a client builds a URL; addresses are
checked on every connection (`PolicyAdapter`), so a published name that resolves, or is made
to resolve, to a private, loopback, link-local or metadata address is never sent a request.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from integrations.platforms.errors import ConfigurationError

DEFAULT_PORTS = {"http": 80, "https": 443}


class URLRefused(ConfigurationError):
    """The console will not call this URL or address."""


def parse(url: str) -> SplitResult:
    """urlsplit, with a malformed URL (a bad IPv6 literal, a bad port) as URLRefused."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise URLRefused(f"'{url}' is not a valid URL ({exc}).") from None
    return parts


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme)


def sandbox_root() -> SplitResult | None:
    """SANDBOX_BASE_URL, parsed, while the sandbox is enabled."""
    if not settings.SANDBOX_ENABLED or not settings.SANDBOX_BASE_URL:
        return None
    return urlsplit(settings.SANDBOX_BASE_URL.rstrip("/"))


def is_sandbox_url(url: str, slug: str) -> bool:
    """True when `url` is this console's emulator of `slug` (at SANDBOX_BASE_URL) and it is on."""
    root = sandbox_root()
    if root is None or not url:
        return False
    try:
        parts = parse(url)
    except URLRefused:
        return False
    return (
        _origin(parts) == _origin(root)
        and not parts.username
        and not parts.password
        and parts.path.rstrip("/") == f"{root.path}/{slug}"
        and not parts.query
        and not parts.fragment
    )


def console_origins() -> set[tuple[str, str, int | None]]:
    """This console's own origins: its public address and the sandbox's (while it is on)."""
    origins = set()
    if settings.CONSOLE_BASE_URL:
        origins.add(_origin(urlsplit(settings.CONSOLE_BASE_URL)))
    root = sandbox_root()
    if root is not None:
        origins.add(_origin(root))
    return origins


def is_console_webhook_url(url: str) -> bool:
    """True when `url` is a webhook URL of this console (the only place the sandbox's
    emulators post webhooks to: they never become a way to call anything else)."""
    try:
        parts = parse(url)
    except URLRefused:
        return False
    return (
        _origin(parts) in console_origins()
        and not parts.username
        and not parts.password
        and parts.path.startswith("/webhooks/")
        and not parts.fragment
    )


def check_base_url(platform, url: str) -> None:
    """Raise URLRefused unless `url` is the sandbox or https on a host `platform` publishes."""
    if not url or is_sandbox_url(url, platform.slug):
        return
    parts = parse(url)
    if parts.username or parts.password:
        raise URLRefused(f"{platform.label}: the API base URL must not carry a user or password.")
    host = parts.netloc.rsplit("@", 1)[-1].lower()
    if parts.scheme.lower() != "https" or not platform.accepts_host(host):
        raise URLRefused(
            f"{platform.label}: the API base URL must be https on one of {platform.label}'s "
            f"hosts ({platform.describe_hosts()}); got {parts.scheme}://{parts.netloc}."
        )


def _refused_address(address: str) -> str:
    """Why a connection to `address` is refused, or "" when it is a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for test, name in (
        (ip.is_loopback, "a loopback"),
        (ip.is_link_local, "a link-local (cloud metadata)"),
        (ip.is_private, "a private"),
        (ip.is_multicast, "a multicast"),
        (ip.is_unspecified, "an unspecified"),
        (ip.is_reserved, "a reserved"),
    ):
        if test:
            return name
    return ""


def check_peer(scheme: str, host: str, port: int | None, address: str) -> None:
    """Refuse a connection to a non-public address, except the configured sandbox's origin."""
    reason = _refused_address(address)
    if not reason:
        return
    root = sandbox_root()
    if root is not None and (scheme, host.lower(), port) == _origin(root):
        return
    raise URLRefused(
        f"Refused to connect to {host}: it resolves to {address}, {reason} address. Platforms "
        "are reached only on public addresses."
    )


class _CheckedConnection:
    """Checks the address a connection reached before anything is sent on it."""

    scheme = "http"

    def connect(self) -> None:
        super().connect()
        try:
            check_peer(self.scheme, self.host, self.port, self.sock.getpeername()[0])
        except URLRefused:
            self.close()
            raise


class _CheckedHTTPConnection(_CheckedConnection, HTTPConnection):
    scheme = "http"


class _CheckedHTTPSConnection(_CheckedConnection, HTTPSConnection):
    scheme = "https"


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class PolicyAdapter(HTTPAdapter):
    """A requests adapter whose connections refuse non-public addresses (see check_peer)."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPPool,
            "https": _CheckedHTTPSPool,
        }


def guarded_session(session):
    """`session` (a requests.Session) with the address check on both schemes."""
    adapter = PolicyAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
