"""The SendGrid emulator's lists and segments, with contact counts."""

from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from integrations.sandbox.emulation import json_response
from integrations.sandbox.models import SandboxSegment
from integrations.sandbox.sendgrid.auth import EMULATOR, PLATFORM, _errors
from integrations.sandbox.sendgrid.state import _segment_count, list_uuid

# --- lists and segments -----------------------------------------------------------------------


def _segments(account, kind: str):
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account)
    return [s for s in rows if (s.kind == "list") == (kind == "list")]


@csrf_exempt
def lists(request, host):
    """GET pages the lists; POST creates one (integrations/sandbox/sendgrid/lists.py)."""
    if request.method == "POST":
        from integrations.sandbox.sendgrid.lists import create_list

        return create_list(request, host)
    return _lists(request, host)


@require_GET
@EMULATOR.endpoint()
def _lists(request, account):
    try:
        size = int(request.GET.get("page_size", 100))
    except ValueError:
        size = 0
    if not 1 <= size <= 1000:
        return _errors("page_size must be between 1 and 1000", 400, "page_size")
    rows = _segments(account, "list")
    start = int(request.GET.get("page_token") or 0)
    page = rows[start : start + size]
    base = request.build_absolute_uri(request.path)
    metadata = {"self": request.build_absolute_uri(), "count": len(rows)}
    if start + size < len(rows):
        metadata["next"] = f"{base}?page_size={size}&page_token={start + size}"
    return json_response(
        {
            "result": [
                {
                    "id": list_uuid(s.remote_id),
                    "name": s.name,
                    "contact_count": _segment_count(s),
                    "_metadata": {"self": f"{base}/{list_uuid(s.remote_id)}"},
                }
                for s in page
            ],
            "_metadata": metadata,
        }
    )


def _find_segment(account, kind: str, remote: str):
    return next((s for s in _segments(account, kind) if list_uuid(s.remote_id) == remote), None)


@require_GET
@EMULATOR.endpoint()
def list_detail(request, account, list_id: str):
    segment = _find_segment(account, "list", list_id)
    if segment is None:
        return _errors("list not found", 404)
    return json_response(
        {"id": list_id, "name": segment.name, "contact_count": _segment_count(segment)}
    )


@require_GET
@EMULATOR.endpoint()
def list_count(request, account, list_id: str):
    segment = _find_segment(account, "list", list_id)
    if segment is None:
        return _errors("list not found", 404)
    count = _segment_count(segment)
    return json_response({"contact_count": count, "billable_count": count})


def _segment_body(segment: SandboxSegment) -> dict:
    return {
        "id": list_uuid(segment.remote_id),
        "name": segment.name,
        "contacts_count": _segment_count(segment),
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "sample_updated_at": "2024-01-01T00:00:00Z",
        "next_sample_update": "2024-01-02T00:00:00Z",
        "parent_list_ids": [],
        "query_version": "2",
        "status": {"query_validation": "VALID"},
    }


@require_GET
@EMULATOR.endpoint()
def segments(request, account):
    return json_response({"results": [_segment_body(s) for s in _segments(account, "segment")]})


@require_GET
@EMULATOR.endpoint()
def segment_detail(request, account, segment_id: str):
    segment = _find_segment(account, "segment", segment_id)
    if segment is None:
        return _errors("segment not found", 404)
    return json_response(
        {
            **_segment_body(segment),
            "query_dsl": f"SELECT contact_id FROM contact_data WHERE "
            f"{segment.rule_attribute or '1'} = '{segment.rule_value or '1'}'",
        }
    )
