"""Iterable users one at a time: GET /api/users/getByEmail, GET|DELETE /api/users/{email},
GET|DELETE /api/users/byUserId/{userId} (the spec's UserResponse and IterableApiResponse).

A deletion removes the stored user at once (Iterable processes it asynchronously; the
emulator has no delay). An unknown user reads as `{}` (UserResponse's `user` is optional) and
its deletion answers Success: the spec documents no not-found answer, so this is the
sandbox's convention.
"""

from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from integrations.sandbox.emulation import json_response
from integrations.sandbox.iterable.auth import EMULATOR, PLATFORM, error
from integrations.sandbox.models import SandboxContact


def _rows(account, identifier: str):
    return SandboxContact.objects.filter(
        platform=PLATFORM, account=account.account, identifier=identifier
    )


def _user(row) -> dict:
    fields = dict(row.attributes)
    email = fields.pop("email", None)
    user = {"dataFields": fields}
    if email:
        user["email"] = email
    if row.identifier.startswith("userId:"):
        user["userId"] = row.identifier.removeprefix("userId:")
    return user


def _answer(request, account, identifier: str):
    rows = _rows(account, identifier)
    if request.method == "DELETE":
        if account.read_only:
            return error("BadApiKey", "This API key is read-only", 401)
        rows.delete()
        return json_response({"code": "Success", "msg": "User deletion queued", "params": None})
    row = rows.first()
    return json_response({"user": _user(row)} if row is not None else {})


@require_GET
@EMULATOR.endpoint(endpoint="users.one")
def get_by_email(request, account):
    email = request.GET.get("email", "")
    if not email:
        return error("BadParams", "email is required", 400)
    return _answer(request, account, email.lower())


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
@EMULATOR.endpoint(endpoint="users.one")
def user_by_email(request, account, email: str):
    return _answer(request, account, email.lower())


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
@EMULATOR.endpoint(endpoint="users.one")
def user_by_id(request, account, user_id: str):
    return _answer(request, account, f"userId:{user_id}")
