"""What the emulators that send share: who a send reaches and the SandboxSend that records it.

A send reaches the stored members of a segment (or list) that the platform has not
suppressed (a contact marked suppressed, or an address on the account's suppression list,
SandboxSuppression); a platform that filters further (suppression lists, unsubscribed users) narrows
the queryset. The recorded SandboxSend is what the metrics endpoints read their seeded
engagement from (integrations/sandbox/engagement.py) and what the e2e tests count.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from integrations.sandbox.models import (
    SandboxContact,
    SandboxSegment,
    SandboxSend,
    SandboxSuppression,
)


def segment_of(platform: str, account: str, remote_id) -> SandboxSegment | None:
    """The account's segment (list, tag …) `remote_id`; None when it has none by that id."""
    if isinstance(remote_id, bool) or not isinstance(remote_id, int):
        return None
    return SandboxSegment.objects.filter(
        platform=platform, account=account, remote_id=remote_id
    ).first()


def reached(contacts: QuerySet[SandboxContact]) -> QuerySet[SandboxContact]:
    """Of `contacts`, those a send reaches: the ones the platform does not suppress."""
    listed = SandboxSuppression.objects.filter(
        platform=OuterRef("platform"), account=OuterRef("account"), email=OuterRef("identifier")
    )
    return contacts.filter(suppressed=False).exclude(Exists(listed))


def emails(contacts: QuerySet[SandboxContact]):
    """The identifiers a send went to, for its engagement."""
    return contacts.values_list("identifier", flat=True)


def record_sent(
    platform: str,
    account: str,
    kind: str,
    name: str,
    body: dict,
    recipients: int,
    remote_id: str | None = None,
    content: dict | None = None,
) -> SandboxSend:
    """One send that went out now (`sends` 1). Its id is the account's next number of sends
    unless the platform hands out ids of its own (`remote_id`)."""
    with transaction.atomic():
        if remote_id is None:
            number = SandboxSend.objects.filter(platform=platform, account=account).count()
            remote_id = str(number + 1)
        return SandboxSend.objects.create(
            platform=platform,
            account=account,
            kind=kind,
            remote_id=remote_id,
            name=name,
            status="sent",
            body=body,
            content=content or {},
            recipients=recipients,
            sends=1,
            sent_at=timezone.now(),
        )
