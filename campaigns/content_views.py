"""The one public page of the console: a target's content at its signed URL (campaigns/content.py),
for a platform that fetches it (Campaign Monitor's HtmlUrl and TextUrl).

No session or login: the signature is the permission. Anything but a genuine, unexpired token
of this assignment is a plain 404 (nothing says why). The answer is never cached or indexed,
and sends no referrer onwards (the URL is the credential).
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from campaigns import content


@require_GET
def serve(request, assignment_id: int, token: str) -> HttpResponse:
    found = content.resolve(assignment_id, token)
    if found is None:
        raise Http404("No such content.")
    target, kind = found
    response = HttpResponse(
        content.content_of(target).of_kind(kind), content_type=content.CONTENT_TYPES[kind]
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["X-Content-Type-Options"] = "nosniff"
    return response
