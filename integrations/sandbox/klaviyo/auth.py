"""The Klaviyo emulator's gate (revision header, key scopes, burst and steady limits), its
JSON:API answers and paging, and the accounts endpoint the connection test reads."""

from __future__ import annotations

import uuid

import orjson
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from integrations.sandbox import accounts, emulation
from integrations.sandbox.emulation import Emulator

PLATFORM = "klaviyo"
HOST = "a.klaviyo.com"
REVISION = "2026-07-15"
MEDIA_TYPES = ("application/vnd.api+json", "application/json")
# endpoint → ((burst per second), (steady per minute)), from the spec's x-klaviyo-ratelimit
RATES = {
    "accounts": (1, 15),
    "lists": (75, 750),
    "segments": (75, 750),
    "list_count": (1, 15),  # get_list with additional-fields[list]=profile_count
    "segment_count": (1, 15),
    "profiles": (75, 750),
    "list_profiles": (75, 750),  # get_profiles_for_list
    "segment_profiles": (75, 750),  # get_profiles_for_segment
    "bulk_import": (10, 150),
    "event_jobs": (10, 150),  # bulk_create_events
    "bulk_import.read": (10, 150),
    "data_privacy": (3, 60),
    "suppressions": (75, 750),  # bulk_suppress_profiles (the spec: 75/s, 750/m)
    "list_create": (10, 150),  # create_list (and 150 a day, not emulated)
    "list_members": (10, 150),  # add/remove_profiles_to/from_list
    "campaigns": (10, 150),
    "templates": (10, 150),
    # get_webhooks, create_webhook, get_webhook_topics: 1/s and 15/m each
    "webhooks.read": (1, 15),
    "webhooks.create": (1, 15),
    "webhook_topics": (1, 15),
    "values_reports": (1, 2),  # query_campaign_values: 1/s, 2/m (and 225 a day)
    "metrics": (10, 150),
}
FULL_SCOPES = frozenset(
    {
        "accounts:read", "lists:read", "lists:write", "profiles:read", "profiles:write",
        "segments:read", "segments:write", "data-privacy:write", "subscriptions:write",
        "campaigns:read", "campaigns:write", "templates:read", "templates:write",
        "webhooks:read", "webhooks:write", "metrics:read", "events:write",
    }
)  # fmt: skip
READ_SCOPES = frozenset(s for s in FULL_SCOPES if s.endswith(":read"))


def error_response(status: int, code: str, title: str, detail: str, **source) -> HttpResponse:
    body = {
        "errors": [
            {
                "id": str(uuid.uuid4()),
                "status": status,
                "code": code,
                "title": title,
                "detail": detail,
                "source": source or {"pointer": "/data"},
            }
        ]
    }
    return api_response(body, status)


def api_response(body, status: int = 200, headers: dict | None = None) -> HttpResponse:
    return HttpResponse(
        orjson.dumps(body) if body is not None else b"",
        status=status,
        content_type="application/vnd.api+json",
        headers=headers,
    )


_THROTTLED = {
    "errors": [
        {
            "id": "throttled",
            "status": 429,
            "code": "throttled",
            "title": "Request was throttled.",
            "detail": "Request was throttled. Expected available in 1 second.",
        }
    ]
}


def _authenticate(request, region, **_):
    header = request.headers.get("Authorization", "")
    if not header.startswith("Klaviyo-API-Key "):
        return error_response(
            401,
            "not_authenticated",
            "Authentication credentials were not provided.",
            "Missing or invalid authorization scheme. Please use Klaviyo-API-Key.",
        )
    account = accounts.find(PLATFORM, private_api_key=header[16:])
    if account is None:
        return error_response(
            401,
            "authentication_failed",
            "Incorrect authentication credentials.",
            "Incorrect authentication credentials.",
        )
    return account


def _admit(request, account, *, scopes: tuple[str, ...], write: bool = False, **_):
    """The revision header, the media type of a write, the key's scopes."""
    if request.headers.get("revision") != REVISION:
        return error_response(
            400,
            "invalid",
            "Invalid input.",
            f"A valid revision header is required (this sandbox serves {REVISION}).",
            parameter="revision",
        )
    if write and request.headers.get("Content-Type", "").split(";")[0] not in MEDIA_TYPES:
        return error_response(
            415,
            "unsupported_media_type",
            "Unsupported media type.",
            "Use Content-Type: application/vnd.api+json.",
        )
    allowed = READ_SCOPES if account.read_only else FULL_SCOPES
    if not set(scopes) <= allowed:
        return error_response(
            403,
            "permission_denied",
            "You do not have permission to perform this action.",
            "This API key is missing required scopes: " + ", ".join(sorted(set(scopes) - allowed)),
        )
    return None


def _limit(request, account, *, endpoint, **_):
    """The endpoint's burst (a second) and steady (a minute) limits; `endpoint` is a key of
    RATES, or a function of the request giving one."""
    name = endpoint(request) if callable(endpoint) else endpoint
    burst, steady = RATES[name]
    key = f"{PLATFORM}:{account.account}:{name}"
    return emulation.rate_limited(f"{key}:s", burst, 1.0, _THROTTLED) or emulation.rate_limited(
        f"{key}:m", steady, 60.0, _THROTTLED
    )


EMULATOR = Emulator(
    PLATFORM,
    {HOST: "global"},
    "not Klaviyo's API host",
    authenticate=_authenticate,
    throttled=_THROTTLED,
    admit=_admit,
    limit=_limit,
)


# --- accounts --------------------------------------------------------------------------------


@require_GET
@EMULATOR.endpoint(scopes=("accounts:read",), endpoint="accounts")
def accounts_view(request, account):
    self_url = request.build_absolute_uri(request.path)
    return api_response(
        {
            "data": [
                {
                    "type": "account",
                    "id": account.account,
                    "attributes": {
                        "test_account": True,
                        "contact_information": {
                            "default_sender_name": account.name,
                            "default_sender_email": "news@example.com",
                            "website_url": "https://example.com",
                            "organization_name": account.name,
                            "street_address": {},
                        },
                        "industry": "Publishing",
                        "timezone": "UTC",
                        "preferred_currency": "USD",
                        "public_api_key": "SbxPub",
                        "locale": "en-US",
                    },
                    "links": {"self": f"{self_url}/{account.account}"},
                }
            ],
            "links": {"self": self_url},
        }
    )


def page_size(request, maximum: int) -> int | None:
    try:
        size = int(request.GET.get("page[size]", "10" if maximum == 10 else "20"))
    except ValueError:
        return None
    return size if 1 <= size <= maximum else None


def paged(request, rows: list, size: int) -> HttpResponse:
    """JSON:API cursor paging: the cursor is the offset, opaque to clients."""
    raw = request.GET.get("page[cursor]", "0")
    start = int(raw) if raw.isdigit() else 0
    page = rows[start : start + size]
    links = {"self": request.build_absolute_uri(), "prev": None, "next": None}
    if start + size < len(rows):
        query = request.GET.copy()
        query["page[cursor]"] = str(start + size)
        links["next"] = request.build_absolute_uri(request.path) + "?" + query.urlencode()
    return api_response({"data": page, "links": links})
