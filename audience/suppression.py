"""Suppressed readers: a keyed hash of the normalised email, never the email itself.

An entry comes from a deletion request (the reader is forgotten) or a "do not sell /
suppress" request (the reader's data stays, nothing is sent to them); either way every sync,
send, import and webhook leaves the email out, and `reason` says which it was.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

from audience.models import Suppression, normalise_email

DELETION_REQUEST = "deletion request"
SUPPRESS_REQUEST = "do not sell / suppress request"


def suppression_hash(email: str) -> str:
    """HMAC-SHA256 of the normalised email, keyed by the first SALT_KEY."""
    key = str(settings.SALT_KEY[0]).encode()
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()


def suppress(email: str, reason: str = DELETION_REQUEST) -> Suppression:
    """Add `email` to the suppression list (idempotent). A deletion after a suppression
    keeps the entry and records that the reader was then forgotten."""
    entry, created = Suppression.objects.get_or_create(
        email_hash=suppression_hash(email), defaults={"reason": reason}
    )
    if not created and reason == DELETION_REQUEST and entry.reason != reason:
        entry.reason = reason
        entry.save(update_fields=["reason"])
    return entry


def is_suppressed(email: str) -> bool:
    return Suppression.objects.filter(email_hash=suppression_hash(email)).exists()


def suppressed_among(emails) -> set[str]:
    """The normalised emails of `emails` that are suppressed, in one query."""
    by_hash = {suppression_hash(e): normalise_email(e) for e in emails}
    found = Suppression.objects.filter(email_hash__in=by_hash).values_list("email_hash", flat=True)
    return {by_hash[h] for h in found}
