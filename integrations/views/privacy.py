"""Privacy pages: an access request's bundle (for a limited time) and the capability matrix."""

from __future__ import annotations

import json

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

from integrations.models import AuditAction, PrivacyKind, PrivacyRequest
from integrations.services import audit, privacy

handler = permission_required("integrations.handle_privacyrequest", raise_exception=True)
viewer = permission_required("integrations.view_privacyrequest", raise_exception=True)


def _available_bundle(request, pk: int, how: str) -> PrivacyRequest:
    item = get_object_or_404(PrivacyRequest, pk=pk, kind=PrivacyKind.ACCESS)
    if not item.bundle_available:
        raise Http404("This request has no bundle (not complete, or expired and purged).")
    audit.record(
        AuditAction.PRIVACY_REQUEST_HANDLED,
        actor=request.user,
        via="console",
        target=item,
        summary=f"Access bundle {how}",
    )
    return item


@staff_member_required
@handler
def bundle(request, pk: int) -> HttpResponse:
    """The access bundle as a JSON download, while it has not expired."""
    item = _available_bundle(request, pk, "downloaded")
    response = HttpResponse(
        json.dumps(item.bundle, indent=2, ensure_ascii=False, default=str),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="privacy-request-{item.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response


@staff_member_required
@handler
def bundle_summary(request, pk: int) -> HttpResponse:
    """The access bundle as a readable page (the same data as the JSON)."""
    item = _available_bundle(request, pk, "viewed")
    response = render(
        request,
        "integrations/privacy_bundle.html",
        {
            **admin.site.each_context(request),
            "title": f"Access request #{item.pk}: what is held about {item.bundle['subject']}",
            "item": item,
            "bundle": item.bundle,
            "sharpsend": json.dumps(item.bundle["sharpsend"], indent=2, ensure_ascii=False),
            "platforms": [
                {**p, "pretty": json.dumps(p["data"], indent=2, ensure_ascii=False, default=str)}
                for p in item.bundle["platforms"]
            ],
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@staff_member_required
@viewer
def capabilities(request) -> HttpResponse:
    """Per integration: access and deletion support (sync/async), and why not."""
    return render(
        request,
        "integrations/privacy_capabilities.html",
        {
            **admin.site.each_context(request),
            "title": "Privacy requests: what each integration supports",
            "rows": privacy.capability_matrix(),
        },
    )
