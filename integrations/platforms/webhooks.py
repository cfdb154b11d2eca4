"""Inbound webhooks, declared not branched: each platform's `webhook_scheme` says how its
deliveries are authenticated, and one engine (`verify`) checks any scheme.

Rules every scheme follows (webhook-signatures.md, "Rules for every Django receiver"): verify
the raw bytes before parsing, compare with hmac.compare_digest (or the crypto library's
verify), reject a signed timestamp outside the replay window (5 minutes where the vendor is
silent), and where nothing is signed use an unguessable per-integration secret in the URL.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from integrations.platforms.webhook_events import dig, parse_timestamp


class WebhookRejected(Exception):
    """The request is not from the platform (or not any more): answered 401, never processed.

    The message is for the inbox; the caller only ever sees a bare status.
    """


class Method(enum.StrEnum):
    HMAC = "hmac"  # a keyed digest over the body or a canonical string
    ECDSA = "ecdsa"  # a signature checked with the platform's public key
    TOKEN = "token"  # a shared secret sent as a header, as it is
    BASIC_AUTH = "basic_auth"  # user:password in an Authorization: Basic header
    URL_TOKEN = "url_token"  # our own secret in the webhook URL's query


@dataclass(frozen=True)
class WebhookSecret:
    """Where a scheme's secret comes from and where it is kept (Integration.credentials[key]).

    `generated`: the console makes it (on demand) and the user types it into the platform;
    otherwise the platform issues it and the user pastes it into the console.
    """

    key: str
    label: str
    help_text: str
    generated: bool = False


GENERATED_TOKEN = WebhookSecret(
    "webhook_secret",
    "Webhook token",
    "Made by the console; part of the webhook URL (or the header) the platform sends.",
    generated=True,
)


@dataclass(frozen=True)
class WebhookScheme:
    """How one platform authenticates its webhook deliveries (facts with their source).

    `message` is the signed string: `{body}` is the raw body, `{timestamp}` the timestamp as
    sent. `fields` names the timestamp and signature parts of a `t=…,v1=…` header. `fallback`
    is the scheme used when this one's secret is not stored (a platform with both signed and
    unsigned webhooks). `handshake_header` is a setup request whose value is echoed back.
    """

    method: Method
    source: str
    secret: WebhookSecret = GENERATED_TOKEN
    header: str = ""
    prefixes: tuple[str, ...] = ("",)
    fields: tuple[str, str] | None = None
    digest: str = "sha256"
    encoding: str = "hex"
    message: str = "{body}"
    timestamp_header: str = ""
    timestamp_unit: str = "s"  # "s", "ms" or "any" (seconds, ms, ISO 8601 or HTTP-date)
    replay_window: int = 300
    reserialised_json: bool = False
    # (JSON path in the body, header): where both are sent they must agree (Klaviyo).
    body_matches_header: tuple[str, str] | None = None
    query_param: str = "token"
    fallback: WebhookScheme | None = None
    content_types: tuple[str, ...] = ("application/json",)
    handshake_header: str = ""
    handshake_reply: str = "header"  # "header": echo the header; "json": {"challenge": …}
    note: str = ""
    steps: tuple[str, ...] = ()
    # Headers never stored in the inbox (they carry the secret or a signature over it).
    secret_headers: tuple[str, ...] = ()

    @property
    def signed(self) -> bool:
        return self.method in (Method.HMAC, Method.ECDSA)

    @property
    def has_timestamp(self) -> bool:
        return bool(self.timestamp_header or self.fields)

    def schemes(self) -> list[WebhookScheme]:
        """This scheme and its fallbacks, in order."""
        chain, scheme = [], self
        while scheme is not None:
            chain.append(scheme)
            scheme = scheme.fallback
        return chain

    def secret_keys(self) -> list[str]:
        return [s.secret.key for s in self.schemes()]

    def hidden_headers(self) -> set[str]:
        names = {"authorization", "cookie"}
        for scheme in self.schemes():
            names.update(h.lower() for h in (scheme.header, *scheme.secret_headers) if h)
            if scheme.handshake_header:
                names.add(scheme.handshake_header.lower())
        return names


@dataclass(frozen=True)
class InboundRequest:
    """What the engine needs of an HTTP request: raw body, headers (any case), query."""

    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return ""


def active_scheme(scheme: WebhookScheme, secrets: Mapping[str, str]) -> WebhookScheme:
    """The first scheme in the chain whose secret is stored (WebhookRejected if none)."""
    for candidate in scheme.schemes():
        if secrets.get(candidate.secret.key):
            return candidate
    raise WebhookRejected("no webhook secret is stored for this integration")


def verify(
    scheme: WebhookScheme, request: InboundRequest, secrets: Mapping[str, str], now: float
) -> WebhookScheme:
    """Check `request` against `scheme` with the integration's `secrets`; return the scheme
    that verified it, or raise WebhookRejected saying why (for the inbox, not the caller)."""
    used = active_scheme(scheme, secrets)
    secret = secrets[used.secret.key]
    check = _CHECKS[used.method]
    check(used, request, secret, now)
    _check_consistency(used, request)
    return used


# --- the checks -------------------------------------------------------------------------------


def _check_consistency(scheme: WebhookScheme, request: InboundRequest) -> None:
    if scheme.body_matches_header is None:
        return
    path, header = scheme.body_matches_header
    sent = request.header(header).strip()
    try:
        value = dig(json.loads(request.body), path, "")
    except (ValueError, UnicodeDecodeError):
        return  # the endpoint refuses a body that is not JSON
    if sent and value and str(value) != sent:
        raise WebhookRejected(f"the body's {path} is not the {header} header")


def _same(a: str | bytes, b: str | bytes) -> bool:
    a = a.encode() if isinstance(a, str) else a
    b = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(a, b)


def _strip_prefix(scheme: WebhookScheme, value: str) -> str | None:
    for prefix in sorted(scheme.prefixes, key=len, reverse=True):
        if prefix and value.startswith(prefix):
            return value[len(prefix) :]
    return value if "" in scheme.prefixes else None


def _signature_parts(scheme: WebhookScheme, request: InboundRequest) -> tuple[str, list[str]]:
    """(timestamp as sent, the signatures offered) from the request's headers."""
    raw = request.header(scheme.header).strip()
    if not raw:
        raise WebhookRejected(f"the {scheme.header} header is missing")
    if scheme.fields is None:
        value = _strip_prefix(scheme, raw)
        if value is None:
            raise WebhookRejected(f"the {scheme.header} header has an unexpected form")
        return request.header(scheme.timestamp_header).strip(), [value.strip()]
    ts_name, sig_name = scheme.fields
    timestamp, signatures = "", []
    for part in raw.split(","):
        name, _, value = part.strip().partition("=")
        if name == ts_name:
            timestamp = value
        elif name == sig_name:
            signatures.append(value)
    if not signatures:
        raise WebhookRejected(f"the {scheme.header} header carries no signature")
    return timestamp, signatures


def _check_window(scheme: WebhookScheme, timestamp: str, now: float) -> None:
    if not scheme.has_timestamp:
        return
    try:
        sent = parse_timestamp(timestamp, scheme.timestamp_unit)
    except (ValueError, TypeError, OverflowError):
        raise WebhookRejected("the signed timestamp is missing or unreadable") from None
    if abs(now - sent) > scheme.replay_window:
        raise WebhookRejected(
            f"the signed timestamp is {int(now - sent)} s from now "
            f"(more than {scheme.replay_window} s: a replay or a clock problem)"
        )


def signed_messages(scheme: WebhookScheme, body: bytes, timestamp: str) -> list[bytes]:
    """The bytes the platform signed: the raw body in its canonical string (and, where the
    platform signs its own re-serialisation of the JSON, that one too)."""
    before, _, after = scheme.message.partition("{body}")
    before, after = (p.replace("{timestamp}", timestamp).encode() for p in (before, after))
    bodies = [body]
    if scheme.reserialised_json:
        try:
            compact = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False)
        except (ValueError, UnicodeDecodeError):
            compact = None
        if compact is not None and compact.encode() != body:
            bodies.append(compact.encode())
    return [before + b + after for b in bodies]


def sign(scheme: WebhookScheme, secret: str, message: bytes) -> str:
    """The HMAC signature of `message` as the platform writes it (hex or base64)."""
    digest = hmac.new(secret.encode(), message, getattr(hashlib, scheme.digest)).digest()
    if scheme.encoding == "base64":
        return base64.b64encode(digest).decode()
    return digest.hex()


def _check_hmac(scheme: WebhookScheme, request: InboundRequest, secret: str, now: float) -> None:
    timestamp, offered = _signature_parts(scheme, request)
    _check_window(scheme, timestamp, now)
    for message in signed_messages(scheme, request.body, timestamp):
        expected = sign(scheme, secret, message)
        if scheme.encoding == "hex":
            expected = expected.lower()
        for signature in offered:
            candidate = signature.lower() if scheme.encoding == "hex" else signature
            if _same(expected, candidate):
                return
    raise WebhookRejected("the signature does not match the body")


def load_public_key(secret: str):
    """A platform's public key, as base64 DER (SubjectPublicKeyInfo) or PEM."""
    from cryptography.hazmat.primitives.serialization import (
        load_der_public_key,
        load_pem_public_key,
    )

    text = secret.strip()
    if text.startswith("-----BEGIN"):
        return load_pem_public_key(text.encode())
    return load_der_public_key(base64.b64decode(text))


def _check_ecdsa(scheme: WebhookScheme, request: InboundRequest, secret: str, now: float) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    timestamp, offered = _signature_parts(scheme, request)
    _check_window(scheme, timestamp, now)
    try:
        key = load_public_key(secret)
    except (ValueError, TypeError, binascii.Error):
        raise WebhookRejected("the stored public key cannot be read") from None
    (message,) = signed_messages(scheme, request.body, timestamp)
    try:
        key.verify(base64.b64decode(offered[0], validate=True), message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, binascii.Error):
        raise WebhookRejected("the signature does not match the body") from None


def _check_token(scheme: WebhookScheme, request: InboundRequest, secret: str, now: float) -> None:
    raw = request.header(scheme.header).strip()
    value = _strip_prefix(scheme, raw) if raw else None
    if not value or not _same(value.strip(), secret):
        raise WebhookRejected(f"the {scheme.header} header does not carry the shared token")


def _check_basic(scheme: WebhookScheme, request: InboundRequest, secret: str, now: float) -> None:
    raw = request.header("Authorization").strip()
    scheme_name, _, encoded = raw.partition(" ")
    try:
        pair = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        pair = b""
    if scheme_name.lower() != "basic" or not _same(pair, secret.encode()):
        raise WebhookRejected("the Basic credentials do not match")


def _check_url_token(
    scheme: WebhookScheme, request: InboundRequest, secret: str, now: float
) -> None:
    if not _same(str(request.query.get(scheme.query_param, "")), secret):
        raise WebhookRejected(f"the URL's {scheme.query_param} does not match")


_CHECKS = {
    Method.HMAC: _check_hmac,
    Method.ECDSA: _check_ecdsa,
    Method.TOKEN: _check_token,
    Method.BASIC_AUTH: _check_basic,
    Method.URL_TOKEN: _check_url_token,
}
