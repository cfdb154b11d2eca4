"""What a target sends (its HTML and plain text), and the signed URLs it is served at.

One code path: the SendSpec (campaigns/services/specs.py) and the content view read a target's
content from `content_of`, so what a platform fetches is exactly what the send carries — its
A/B variant's fields, its segment's content variation, or the assignment's.

Campaign Monitor fetches a campaign's content from a URL it is given (HtmlUrl, TextUrl; see
../shared/platforms/campaign_monitor.md §7, §14). The console serves each target's content at
`CONSOLE_BASE_URL/content/<assignment>/<token>/`, where the token is `django.core.signing`
over the target and the kind (html or text), salted for this use and timestamped: it cannot
be guessed or altered, it names the assignment in the path it is valid for, and it expires
after CAMPAIGN_CONTENT_URL_MAX_AGE seconds. The token carries ids only, never content.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from campaigns.models import AssignmentTarget, CampaignSend, ContentVariation

SALT = "campaigns.content-url"
HTML, TEXT = "html", "text"
CONTENT_TYPES = {HTML: "text/html; charset=utf-8", TEXT: "text/plain; charset=utf-8"}


@dataclass(frozen=True)
class Content:
    """What one target sends, field by field, and where it came from (`source`)."""

    subject: str
    preview_text: str
    html: str
    plain_text: str
    from_name: str
    source: str = "the assignment's content"

    def of_kind(self, kind: str) -> str:
        return self.html if kind == HTML else self.plain_text


def variation_of(target: AssignmentTarget, send=None) -> ContentVariation | None:
    """The content variation `target` sends: the one its send recorded at approval (content
    is frozen then), else, before approval, the one for the target's segment (None: none)."""
    if send is None:
        send = CampaignSend.objects.filter(target_id=target.pk).select_related("variation").first()
    if send is not None:
        return send.variation
    if not target.segment_id:
        return None
    return ContentVariation.objects.filter(
        assignment_id=target.assignment_id, segment_id=target.segment_id
    ).first()


def content_of(target: AssignmentTarget, send=None) -> Content:
    """The target's content, each field from the first of these that sets it: its A/B test
    variant, the content variation for its segment, the assignment.

    The one place a send's content is decided: the SendSpec (so the real send, the dry run,
    the test send and the pre-flight) and the signed content URLs all read it here.
    """
    assignment, variant = target.assignment, target.variant
    variation = variation_of(target, send)

    def pick(name: str) -> str:
        for layer in (variant, variation):
            value = getattr(layer, name, "") if layer is not None else ""
            if value and value.strip():
                return value
        return getattr(assignment, name)

    sources = []
    if variant is not None:
        sources.append(f"variant {variant.label}")
    if variation is not None:
        sources.append(f"the variation for {variation.segment or 'a segment now gone'}")
    return Content(
        subject=pick("subject"),
        preview_text=pick("preview_text"),
        html=pick("html"),
        plain_text=pick("plain_text"),
        from_name=pick("from_name"),
        source=" over ".join(sources) if sources else Content.source,
    )


def content_url(target: AssignmentTarget, kind: str) -> str:
    """The absolute, signed URL of the target's content of `kind` (html or text)."""
    token = signing.dumps({"t": target.pk, "k": kind}, salt=SALT)
    path = reverse("campaign-content", args=[target.assignment_id, token])
    return settings.CONSOLE_BASE_URL.rstrip("/") + path


def resolve(assignment_id: int, token: str) -> tuple[AssignmentTarget, str] | None:
    """(target, kind) a token names, when it is genuine, unexpired and of this assignment."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.CAMPAIGN_CONTENT_URL_MAX_AGE)
    except signing.BadSignature:  # tampered, or expired (SignatureExpired)
        return None
    if not isinstance(payload, dict) or payload.get("k") not in CONTENT_TYPES:
        return None
    target = (
        AssignmentTarget.objects.select_related("assignment", "variant")
        .filter(pk=payload.get("t"), assignment_id=assignment_id)
        .first()
    )
    return (target, payload["k"]) if target is not None else None
