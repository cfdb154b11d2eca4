"""The webhook endpoint: /webhooks/<integration webhook id>/ (thin; services/webhooks.py).

Public by design — the platforms post here, with no session and no CSRF token (exempt for this
view only): the platform's declared signature, token or URL secret is the authentication,
checked by the service before anything is stored as verified.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from integrations.models.webhooks import WEBHOOK_MAX_BODY
from integrations.services import webhooks


def _reply(reply: webhooks.Reply) -> JsonResponse:
    response = JsonResponse(reply.body, status=reply.status)
    for name, value in reply.headers.items():
        response[name] = value
    return response


def _read_body(request) -> bytes | None:
    """The raw body, or None when it is larger than the endpoint takes."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > WEBHOOK_MAX_BODY:
        return None
    body = request.read(WEBHOOK_MAX_BODY + 1)
    return None if len(body) > WEBHOOK_MAX_BODY else body


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def receive(request, webhook_id):
    integration = webhooks.find_integration(webhook_id)
    if integration is None:
        return _reply(webhooks.NOT_FOUND)
    body = _read_body(request) if request.method == "POST" else b""
    if body is None:
        return _reply(webhooks.TOO_LARGE)
    headers = {name: value for name, value in request.headers.items()}
    query = {key: request.GET.get(key, "") for key in request.GET}
    return _reply(webhooks.receive(integration, request.method, body, headers, query))
