"""Signing webhooks the way each platform signs them, for the emulators and the tests.

Written from the platforms' documents (../shared/platforms/webhook-signatures.md), apart from
the console's verifier (integrations/platforms/webhooks.py), so that a test signing here and
verifying there checks the verifier against the documented scheme, not against itself.
`forge` and `replay` make the bad requests the verifier must refuse.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass
class SignedRequest:
    """What to post: the headers and the webhook URL's query (a URL token)."""

    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)


def _hmac(secret: str, message: bytes, encoding: str = "hex", digest=hashlib.sha256) -> str:
    mac = hmac.new(secret.encode(), message, digest).digest()
    return base64.b64encode(mac).decode() if encoding == "base64" else mac.hex()


def _t_v1(header: str):
    """Mailchimp and Kit: `t=<unix>,v1=<hex HMAC-SHA256 of "<t>." + body>`."""

    def sign(body: bytes, secret: str, now: float) -> SignedRequest:
        t = str(int(now))
        return SignedRequest({header: f"t={t},v1={_hmac(secret, t.encode() + b'.' + body)}"})

    return sign


def _customerio(body: bytes, secret: str, now: float) -> SignedRequest:
    ts = str(int(now))
    signature = _hmac(secret, b"v0:" + ts.encode() + b":" + body)
    return SignedRequest({"X-CIO-Timestamp": ts, "X-CIO-Signature": signature})


def _crisp(body: bytes, secret: str, now: float) -> SignedRequest:
    ts = str(int(now * 1000))
    signature = _hmac(secret, b"[" + ts.encode() + b";" + body + b"]")
    return SignedRequest({"X-Crisp-Request-Timestamp": ts, "X-Crisp-Signature": signature})


def _front(body: bytes, secret: str, now: float) -> SignedRequest:
    ts = str(int(now * 1000))
    signature = _hmac(secret, ts.encode() + b":" + body, "base64")
    return SignedRequest({"X-Front-Request-Timestamp": ts, "X-Front-Signature": signature})


def _klaviyo(body: bytes, secret: str, now: float) -> SignedRequest:
    ts = formatdate(now, usegmt=True)  # an HTTP-date, as implementations have seen
    return SignedRequest(
        {"Klaviyo-Timestamp": ts, "Klaviyo-Signature": _hmac(secret, body + ts.encode())}
    )


def _sendgrid(body: bytes, private_key_pem: str, now: float) -> SignedRequest:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    ts = str(int(now))
    signature = key.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))
    return SignedRequest(
        {
            "X-Twilio-Email-Event-Webhook-Timestamp": ts,
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        }
    )


def _header(name: str, prefix: str = ""):
    def sign(body: bytes, secret: str, now: float) -> SignedRequest:
        return SignedRequest({name: prefix + secret})

    return sign


def _url_token(body: bytes, secret: str, now: float) -> SignedRequest:
    return SignedRequest(query={"token": secret})


def _hmac_key() -> str:
    return "not-the-secret-" + "x" * 24


def _ecdsa_key() -> str:
    return new_ecdsa_key()[0]


@dataclass(frozen=True)
class Signer:
    """How one platform signs a delivery, and what a key that is not its own looks like
    (a forger's: another HMAC key, or another ECDSA private key)."""

    sign: Callable[[bytes, str, float], SignedRequest]
    other_key: Callable[[], str] = _hmac_key


SIGNERS = {
    "mailchimp": Signer(_t_v1("X-Mailchimp-Signature")),
    "kit": Signer(_t_v1("X-Kit-Signature")),
    "customerio": Signer(_customerio),
    "crisp": Signer(_crisp),
    "front": Signer(_front),
    "klaviyo": Signer(_klaviyo),
    "sendgrid": Signer(_sendgrid, other_key=_ecdsa_key),
    "iterable": Signer(_header("Authorization")),  # Auth Type "Basic": the raw token
    "braze": Signer(_header("Authorization", "Bearer ")),
    "drift": Signer(_header("X-Verification-Token")),
    "campaign_monitor": Signer(_url_token),
    "keap": Signer(_url_token),
}
# Platforms whose unsigned webhooks are checked by the URL token alone.
UNSIGNED_SIGNERS = {"mailchimp": Signer(_url_token), "kit": Signer(_url_token)}


def signer(slug: str, *, unsigned: bool = False) -> Signer:
    return UNSIGNED_SIGNERS[slug] if unsigned else SIGNERS[slug]


def sign(slug: str, body: bytes, secret: str, now: float, *, unsigned: bool = False):
    """The headers/query the platform `slug` sends with `body` (secret: its key; SendGrid's
    is the PEM private key whose public half the console stores)."""
    return signer(slug, unsigned=unsigned).sign(body, secret, now)


def forge(slug: str, body: bytes, now: float, *, unsigned: bool = False) -> SignedRequest:
    """The same request signed with a key that is not the platform's."""
    chosen = signer(slug, unsigned=unsigned)
    return chosen.sign(body, chosen.other_key(), now)


def new_ecdsa_key() -> tuple[str, str]:
    """(private key PEM, public key as SendGrid shows it: base64 DER SubjectPublicKeyInfo)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, base64.b64encode(der).decode()
