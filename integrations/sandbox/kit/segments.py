"""Kit tags (with their active subscribers) and segments."""

from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from integrations.sandbox.emulation import json_response
from integrations.sandbox.kit.auth import PLATFORM, endpoint, errors
from integrations.sandbox.kit.state import paginate, subscriber_row, subscriber_view
from integrations.sandbox.models import SandboxSegment


def _tags(account):
    return SandboxSegment.objects.filter(platform=PLATFORM, account=account.account, kind="tag")


def _tag_members(tag: SandboxSegment):
    return tag.members().filter(suppressed=False, attributes__state="active")


@require_GET
@endpoint
def subscriber_tags(request, account, subscriber_id: int):
    contact = subscriber_row(account, subscriber_id)
    if contact is None:
        return errors(404, "Not Found")
    items = [
        {"id": t.remote_id, "name": t.name, "tagged_at": "2023-02-17T11:43:55Z"}
        for t in _tags(account)
        if t.members().filter(pk=contact.pk).exists()
    ]
    page, pagination = paginate(items, request)
    return json_response({"tags": page, "pagination": pagination})


@csrf_exempt
def tags(request, host):
    """GET lists the tags; POST creates one (integrations/sandbox/kit/tagging.py)."""
    if request.method == "POST":
        from integrations.sandbox.kit.tagging import create_tag

        return create_tag(request, host)
    return _tags_list(request, host)


@csrf_exempt
def tag_subscribers(request, host, tag_id: int):
    """GET pages a tag's subscribers; POST / DELETE tag and untag one by email."""
    if request.method in ("POST", "DELETE"):
        from integrations.sandbox.kit.tagging import tag_by_email

        return tag_by_email(request, host, tag_id=tag_id)
    return _tag_subscribers(request, host, tag_id=tag_id)


@require_GET
@endpoint
def _tags_list(request, account):
    items = [
        {"id": t.remote_id, "name": t.name, "created_at": "2023-02-17T11:43:55Z"}
        for t in _tags(account)
    ]
    page, pagination = paginate(items, request)
    return json_response({"tags": page, "pagination": pagination})


@require_GET
@endpoint
def _tag_subscribers(request, account, tag_id: int):
    tag = _tags(account).filter(remote_id=tag_id).first()
    if tag is None:
        return errors(404, "Not Found")
    members = [subscriber_view(c, with_fields=False) for c in _tag_members(tag).order_by("pk")]
    page, pagination = paginate(members, request)
    return json_response({"subscribers": page, "pagination": pagination})


@require_GET
@endpoint
def segments(request, account):
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account, kind="segment")
    items = [
        {"id": s.remote_id, "name": s.name, "created_at": "2023-02-17T11:43:55Z"} for s in rows
    ]
    page, pagination = paginate(items, request)
    return json_response({"segments": page, "pagination": pagination})
