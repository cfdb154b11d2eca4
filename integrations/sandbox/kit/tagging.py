"""Kit tags created and filled through the API in the emulator (static membership).

`POST /v4/tags` `{"name"}` creates a tag (201; an existing name answers 200 with that tag, as
Kit does); `POST /v4/tags/{id}/subscribers` `{"email_address"}` tags a subscriber (201 new,
200 already tagged) and `DELETE` on the same path untags (204). A tag that does not exist is a
404; a subscriber the account does not have is a 422 (a sandbox convention: Kit only says the
subscriber must exist).
"""

from __future__ import annotations

from django.http import HttpResponse

from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.kit.auth import PLATFORM, endpoint, errors
from integrations.sandbox.kit.state import subscriber_view
from integrations.sandbox.models import SandboxContact, SandboxSegment


def _tag_view(tag: SandboxSegment) -> dict:
    return {"id": tag.remote_id, "name": tag.name, "created_at": "2023-02-17T11:43:55Z"}


@endpoint
def create_tag(request, account):
    data = parse_json(request)
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name.strip():
        return errors(422, "Name can't be blank")
    existing = SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, kind="tag", name=name.strip()
    ).first()
    if existing is not None:
        return json_response({"tag": _tag_view(existing)})
    created = SandboxSegment.create_static(PLATFORM, account.account, name.strip(), "tag")
    return json_response({"tag": _tag_view(created)}, status=201)


@endpoint
def tag_by_email(request, account, tag_id: int):
    tag = SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, kind="tag", remote_id=tag_id
    ).first()
    if tag is None:
        return errors(404, "Not Found")
    data = parse_json(request)
    email = data.get("email_address") if isinstance(data, dict) else None
    if not isinstance(email, str) or not email:
        return errors(422, "Email address can't be blank")
    contact = SandboxContact.objects.filter(
        platform=PLATFORM, account=account.account, identifier=email.lower()
    ).first()
    if request.method == "DELETE":
        if contact is None or not tag.static_members.filter(pk=contact.pk).exists():
            return errors(404, "Not Found")
        tag.static_members.remove(contact)
        return HttpResponse(status=204)
    if contact is None:
        return errors(422, "Subscriber does not exist")
    if not tag.static:
        return errors(422, "The sandbox tags subscribers only on tags created through the API")
    already = tag.static_members.filter(pk=contact.pk).exists()
    tag.static_members.add(contact)
    view = {**subscriber_view(contact, with_fields=True), "tagged_at": "2023-02-17T11:43:55Z"}
    return json_response({"subscriber": view}, status=200 if already else 201)
