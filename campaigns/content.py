"""What a target sends (its HTML and plain text), and the signed URLs it is served at.

One code path: the SendSpec (campaigns/services/specs.py) and the content view read a target's
content from `content_of`, so what a platform fetches is exactly what the send carries.

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

from campaigns.models import AssignmentTarget

SALT = "campaigns.content-url"
HTML, TEXT = "html", "text"
CONTENT_TYPES = {HTML: "text/html; charset=utf-8", TEXT: "text/plain; charset=utf-8"}


@dataclass(frozen=True)
class Content:
    html: str
    plain_text: str

    def of_kind(self, kind: str) -> str:
        return self.html if kind == HTML else self.plain_text


def content_of(target: AssignmentTarget) -> Content:
    """The target's content: its A/B variant's HTML where it has one, else the assignment's."""
    assignment, variant = target.assignment, target.variant
    return Content(html=(variant and variant.html) or assignment.html,
                   plain_text=assignment.plain_text)  # fmt: skip


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
