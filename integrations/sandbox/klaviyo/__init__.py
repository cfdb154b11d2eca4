"""Klaviyo emulator: accounts, the bulk profile import job (asynchronous), lists and segments
with profile counts, profiles, data privacy deletion.

Served as /sandbox/klaviyo/a.klaviyo.com/api/…. Every request needs the `revision` header and
`Authorization: Klaviyo-API-Key <key>`; each key has scopes (the read-only key has only the
`:read` ones) and a missing scope answers 403. Bodies are JSON:API.

Import jobs run on the emulator's clock: queued for their first second, processing for the
next, then complete, at which point their profiles are written and their import errors known
(a client polling on the fake clock of the e2e tests sees the same states). Profiles are stored
under the lower-cased email (or `external_id:<id>` / `phone_number:<n>`), with standard
attributes at the top level and custom properties under "properties", merged key by key as
Klaviyo merges them. A stored contact marked `suppressed` stands for a profile Klaviyo holds
back: its import fails with a "suppressed" import error (a sandbox convention: Klaviyo does not
publish its list of import error codes).
"""

from __future__ import annotations

import itertools
import re
import threading
import uuid

import orjson
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.sandbox import accounts, emulation, store
from integrations.sandbox.emulation import Emulator, parse_json, read_body
from integrations.sandbox.models import SandboxContact, SandboxSegment

PLATFORM = "klaviyo"
HOST = "a.klaviyo.com"
REVISION = "2026-07-15"
MEDIA_TYPES = ("application/vnd.api+json", "application/json")
MAX_BODY = 5_000_000
MAX_PROFILES = 10_000
MAX_PROFILE_BYTES = 100_000
JOB_QUEUED_FOR = 1.0
JOB_PROCESSING_FOR = 1.0
PROFILE_ATTRIBUTES = {
    "email", "phone_number", "external_id", "_kx", "first_name", "last_name", "organization",
    "locale", "title", "image", "location", "properties",
}  # fmt: skip
IDENTIFIERS = ("email", "external_id", "phone_number")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_FILTER = re.compile(r'^equals\((email|external_id|phone_number|id),"((?:[^"\\]|\\.)*)"\)$')
# endpoint → ((burst per second), (steady per minute)), from the spec's x-klaviyo-ratelimit
RATES = {
    "accounts": (1, 15),
    "lists": (75, 750),
    "segments": (75, 750),
    "list_count": (1, 15),  # get_list with additional-fields[list]=profile_count
    "segment_count": (1, 15),
    "profiles": (75, 750),
    "bulk_import": (10, 150),
    "bulk_import.read": (10, 150),
    "data_privacy": (3, 60),
}
FULL_SCOPES = frozenset(
    {
        "accounts:read", "lists:read", "lists:write", "profiles:read", "profiles:write",
        "segments:read", "segments:write", "data-privacy:write",
    }
)  # fmt: skip
READ_SCOPES = frozenset(s for s in FULL_SCOPES if s.endswith(":read"))

_jobs: dict[str, dict] = {}
_jobs_lock = threading.Lock()
_job_numbers = itertools.count(1)


def _errors(status: int, code: str, title: str, detail: str, **source) -> HttpResponse:
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
    return _response(body, status)


def _response(body, status: int = 200, headers: dict | None = None) -> HttpResponse:
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
        return _errors(
            401,
            "not_authenticated",
            "Authentication credentials were not provided.",
            "Missing or invalid authorization scheme. Please use Klaviyo-API-Key.",
        )
    account = accounts.find(PLATFORM, private_api_key=header[16:])
    if account is None:
        return _errors(
            401,
            "authentication_failed",
            "Incorrect authentication credentials.",
            "Incorrect authentication credentials.",
        )
    return account


def _admit(request, account, *, scopes: tuple[str, ...], write: bool = False, **_):
    """The revision header, the media type of a write, the key's scopes."""
    if request.headers.get("revision") != REVISION:
        return _errors(
            400,
            "invalid",
            "Invalid input.",
            f"A valid revision header is required (this sandbox serves {REVISION}).",
            parameter="revision",
        )
    if write and request.headers.get("Content-Type", "").split(";")[0] not in MEDIA_TYPES:
        return _errors(
            415,
            "unsupported_media_type",
            "Unsupported media type.",
            "Use Content-Type: application/vnd.api+json.",
        )
    allowed = READ_SCOPES if account.read_only else FULL_SCOPES
    if not set(scopes) <= allowed:
        return _errors(
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
    return _response(
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


# --- profiles: bulk import jobs --------------------------------------------------------------


def _identity(attributes: dict) -> str | None:
    for field in IDENTIFIERS:
        value = attributes.get(field)
        if value:
            return str(value).lower() if field == "email" else f"{field}:{value}"
    return None


def _check_profile(profile) -> tuple[str, str]:
    """(pointer suffix, problem) for one profile resource, or ("", "")."""
    if not isinstance(profile, dict) or profile.get("type") != "profile":
        return "/type", "Each entry must be a profile resource object."
    attributes = profile.get("attributes")
    if not isinstance(attributes, dict):
        return "/attributes", "attributes must be an object."
    if len(orjson.dumps(profile)) > MAX_PROFILE_BYTES:
        return "", "The profile is larger than 100KB."
    if not any(attributes.get(f) for f in IDENTIFIERS):
        return "/attributes", "A profile needs an email, phone_number or external_id."
    email = attributes.get("email")
    if email is not None and not store.looks_like_email(email):
        return "/attributes/email", f"Invalid email address: {email}"
    phone = attributes.get("phone_number")
    if phone is not None and not (isinstance(phone, str) and _E164.match(phone)):
        return "/attributes/phone_number", "Invalid phone number: use E.164 (+15005550006)."
    for name in ("properties", "location"):
        if attributes.get(name) is not None and not isinstance(attributes[name], dict):
            return f"/attributes/{name}", f"{name} must be an object."
    return "", ""


def _request_problem(data) -> HttpResponse | None:
    """A 400 when the job request itself is malformed (validated before any job exists)."""
    job = data.get("data") if isinstance(data, dict) else None
    if not isinstance(job, dict) or job.get("type") != "profile-bulk-import-job":
        return _errors(
            400, "invalid", "Invalid input.", "data.type must be profile-bulk-import-job"
        )
    profiles = ((job.get("attributes") or {}).get("profiles") or {}).get("data")
    if not isinstance(profiles, list):
        return _errors(
            400,
            "invalid",
            "Invalid input.",
            "attributes.profiles.data is required.",
            pointer="/data/attributes/profiles/data",
        )
    if not profiles:
        return _errors(
            400,
            "invalid",
            "Invalid input.",
            "At least one profile is required.",
            pointer="/data/attributes/profiles/data",
        )
    if len(profiles) > MAX_PROFILES:
        return _errors(
            400,
            "invalid",
            "Invalid input.",
            f"A job takes at most {MAX_PROFILES} profiles.",
            pointer="/data/attributes/profiles/data",
        )
    for index, profile in enumerate(profiles):
        attributes = profile.get("attributes") if isinstance(profile, dict) else None
        unknown = set(attributes) - PROFILE_ATTRIBUTES if isinstance(attributes, dict) else set()
        if unknown:
            name = sorted(unknown)[0]
            return _errors(
                400,
                "invalid",
                "Invalid input.",
                f"'{name}' is not a valid field for the resource 'profile'.",
                pointer=f"/data/attributes/profiles/data/{index}/attributes/{name}",
            )
    return None


def _job_resource(request, job: dict) -> dict:
    attributes = {
        "status": job["status"],
        "created_at": job["created_at"],
        "total_count": len(job["profiles"]),
        "completed_count": job["completed_count"],
        "failed_count": job["failed_count"],
        "completed_at": job.get("completed_at"),
        "expires_at": None,
        "started_at": job.get("started_at"),
    }
    url = request.build_absolute_uri(f"/sandbox/{PLATFORM}/{HOST}/api/profile-bulk-import-jobs")
    return {
        "type": "profile-bulk-import-job",
        "id": job["id"],
        "attributes": attributes,
        "links": {"self": f"{url}/{job['id']}"},
    }


def _advance(job: dict) -> None:
    """Move a job along the emulator's clock; write its profiles when it completes."""
    elapsed = emulation.time.monotonic() - job["started"]
    if job["status"] == "complete":
        return
    if elapsed < JOB_QUEUED_FOR:
        job["status"] = "queued"
        return
    if elapsed < JOB_QUEUED_FOR + JOB_PROCESSING_FOR:
        job["status"] = "processing"
        job["started_at"] = job["created_at"]
        job["completed_count"] = len(job["profiles"]) // 2
        return
    _run(job)


def _run(job: dict) -> None:
    errors, changes, index_of = [], {}, {}
    for index, profile in enumerate(job["profiles"]):
        pointer, problem = _check_profile(profile)
        if problem:
            errors.append(_import_error(index, pointer, problem, profile))
            continue
        attributes = profile["attributes"]
        identity = _identity(attributes)
        new = {k: v for k, v in attributes.items() if v is not None}
        old = changes.get(identity, {})
        if "properties" in old or "properties" in new:
            new["properties"] = {**old.get("properties", {}), **new.get("properties", {})}
        changes[identity] = {**old, **new}
        index_of[identity] = (index, profile)
    known = store.existing(PLATFORM, job["account"], changes)
    for identity, contact in known.items():
        if contact.suppressed:
            index, profile = index_of[identity]
            errors.append(
                _import_error(
                    index,
                    "",
                    "This profile is suppressed and was not imported.",
                    profile,
                    code="suppressed",
                    title="Suppressed profile.",
                )
            )
            del changes[identity]
        elif "properties" in changes[identity]:
            changes[identity]["properties"] = {
                **contact.attributes.get("properties", {}),
                **changes[identity]["properties"],
            }
    store.upsert(PLATFORM, job["account"], changes, known)
    job["errors"] = sorted(errors, key=lambda e: e["_index"])
    job["status"] = "complete"
    job["completed_count"] = len(job["profiles"]) - len(errors)
    job["failed_count"] = len(errors)
    job["started_at"] = job["completed_at"] = job["created_at"]


def _import_error(index, pointer, detail, profile, code="invalid", title="Invalid input."):
    return {
        "_index": index,
        "type": "import-error",
        "id": str(uuid.uuid4()),
        "attributes": {
            "code": code,
            "title": title,
            "detail": detail,
            "source": {"pointer": f"/data/attributes/profiles/data/{index}{pointer}"},
            "original_payload": profile if isinstance(profile, dict) else None,
        },
    }


@csrf_exempt
@require_http_methods(["GET", "POST"])
def bulk_import_jobs(request, host):
    if request.method == "GET":
        return _list_import_jobs(request, host)
    return _create_import_job(request, host)


@EMULATOR.endpoint(scopes=("lists:read", "profiles:read"), endpoint="bulk_import.read")
def _list_import_jobs(request, account):
    with _jobs_lock:
        mine = [j for j in _jobs.values() if j["account"] == account.account]
        for job in mine:
            _advance(job)
        data = [_job_resource(request, j) for j in mine[-(_page_size(request, 100) or 20) :]]
    return _response({"data": data, "links": {"self": request.build_absolute_uri()}})


@EMULATOR.endpoint(scopes=("lists:write", "profiles:write"), endpoint="bulk_import", write=True)
def _create_import_job(request, account):
    if len(read_body(request)) > MAX_BODY:
        return _errors(413, "too_large", "Payload too large.", "The body is larger than 5MB.")
    data = parse_json(request)
    problem = _request_problem(data)
    if problem is not None:
        return problem
    job = {
        "id": f"SbxJob{next(_job_numbers):08d}{uuid.uuid4().hex[:6]}",
        "account": account.account,
        "profiles": data["data"]["attributes"]["profiles"]["data"],
        "status": "queued",
        "started": emulation.time.monotonic(),
        "created_at": "2026-01-01T00:00:00+00:00",
        "completed_count": 0,
        "failed_count": 0,
        "errors": [],
    }
    with _jobs_lock:
        _jobs[job["id"]] = job
        return _response({"data": _job_resource(request, job)}, status=202)


def _job(account, job_id: str) -> dict | None:
    job = _jobs.get(job_id)
    return job if job is not None and job["account"] == account.account else None


@require_GET
@EMULATOR.endpoint(scopes=("lists:read", "profiles:read"), endpoint="bulk_import.read")
def bulk_import_job(request, account, job_id: str):
    with _jobs_lock:
        job = _job(account, job_id)
        if job is None:
            return _errors(404, "not_found", "Not found.", f"No job with id {job_id}.")
        _advance(job)
        return _response(
            {"data": _job_resource(request, job), "links": {"self": request.build_absolute_uri()}}
        )


@require_GET
@EMULATOR.endpoint(scopes=("profiles:read",), endpoint="bulk_import.read")
def import_errors(request, account, job_id: str):
    size = _page_size(request, 100)
    if size is None:
        return _errors(400, "invalid", "Invalid input.", "page[size] must be 1 to 100.",
                       parameter="page[size]")  # fmt: skip
    with _jobs_lock:
        job = _job(account, job_id)
        if job is None:
            return _errors(404, "not_found", "Not found.", f"No job with id {job_id}.")
        _advance(job)
        rows = [{k: v for k, v in e.items() if k != "_index"} for e in job["errors"]]
    return _paged(request, rows, size)


# --- lists and segments ----------------------------------------------------------------------


def group_id(remote_id: int) -> str:
    return f"Sbx{remote_id:03d}"


def _group(account, kind: str, value: str) -> SandboxSegment | None:
    if not (value.startswith("Sbx") and value[3:].isdigit()):
        return None
    return SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, kind=kind, remote_id=int(value[3:])
    ).first()


def _group_resource(request, kind: str, segment: SandboxSegment, count: bool) -> dict:
    attributes = {
        "name": segment.name,
        "created": "2025-01-01T00:00:00+00:00",
        "updated": "2025-01-01T00:00:00+00:00",
    }
    if kind == "list":
        attributes["opt_in_process"] = "single_opt_in"
    else:
        attributes.update({"is_active": True, "is_processing": False, "is_starred": False})
    if count:
        attributes["profile_count"] = segment.members().count()
    url = request.build_absolute_uri(f"/sandbox/{PLATFORM}/{HOST}/api/{kind}s")
    return {
        "type": kind,
        "id": group_id(segment.remote_id),
        "attributes": attributes,
        "links": {"self": f"{url}/{group_id(segment.remote_id)}"},
    }


def _page_size(request, maximum: int) -> int | None:
    try:
        size = int(request.GET.get("page[size]", "10" if maximum == 10 else "20"))
    except ValueError:
        return None
    return size if 1 <= size <= maximum else None


def _paged(request, rows: list, size: int) -> HttpResponse:
    """JSON:API cursor paging: the cursor is the offset, opaque to clients."""
    raw = request.GET.get("page[cursor]", "0")
    start = int(raw) if raw.isdigit() else 0
    page = rows[start : start + size]
    links = {"self": request.build_absolute_uri(), "prev": None, "next": None}
    if start + size < len(rows):
        query = request.GET.copy()
        query["page[cursor]"] = str(start + size)
        links["next"] = request.build_absolute_uri(request.path) + "?" + query.urlencode()
    return _response({"data": page, "links": links})


def _groups_view(kind: str):
    @require_GET
    @EMULATOR.endpoint(scopes=(f"{kind}s:read",), endpoint=f"{kind}s")
    def view(request, account):
        size = _page_size(request, 10)
        if size is None:
            return _errors(400, "invalid", "Invalid input.", "page[size] must be 1 to 10.",
                           parameter="page[size]")  # fmt: skip
        rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account, kind=kind)
        data = [_group_resource(request, kind, s, count=False) for s in rows.order_by("remote_id")]
        return _paged(request, data, size)

    return view


def _group_view(kind: str):
    def counting(request) -> bool:
        return request.GET.get(f"additional-fields[{kind}]") == "profile_count"

    @require_GET
    @EMULATOR.endpoint(
        scopes=(f"{kind}s:read",),
        endpoint=lambda request: f"{kind}_count" if counting(request) else f"{kind}s",
    )
    def view(request, account, group: str):
        segment = _group(account, kind, group)
        if segment is None:
            return _errors(404, "not_found", "Not found.", f"No {kind} with id {group}.")
        return _response(
            {
                "data": _group_resource(request, kind, segment, count=counting(request)),
                "links": {"self": request.build_absolute_uri()},
            }
        )

    return view


# --- profiles and privacy --------------------------------------------------------------------


def profile_id(contact: SandboxContact) -> str:
    return f"01SBX{contact.pk:021d}"


def _profile_resource(request, contact: SandboxContact, fields: set[str] | None) -> dict:
    attributes = {k: v for k, v in contact.attributes.items()}
    attributes.setdefault("properties", {})
    if fields:
        attributes = {k: v for k, v in attributes.items() if k in fields}
    url = request.build_absolute_uri(f"/sandbox/{PLATFORM}/{HOST}/api/profiles")
    return {
        "type": "profile",
        "id": profile_id(contact),
        "attributes": attributes,
        "links": {"self": f"{url}/{profile_id(contact)}"},
    }


@require_GET
@EMULATOR.endpoint(scopes=("profiles:read",), endpoint="profiles")
def profiles(request, account):
    size = _page_size(request, 100)
    if size is None:
        return _errors(400, "invalid", "Invalid input.", "page[size] must be 1 to 100.",
                       parameter="page[size]")  # fmt: skip
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    raw_filter = request.GET.get("filter")
    if raw_filter:
        match = _FILTER.match(raw_filter)
        if match is None:
            return _errors(400, "invalid", "Invalid input.", f"Invalid filter: {raw_filter}",
                           parameter="filter")  # fmt: skip
        field, value = match.group(1), re.sub(r"\\(.)", r"\1", match.group(2))
        if field == "id":
            pk = value.removeprefix("01SBX")
            rows = rows.filter(pk=int(pk)) if pk.isdigit() else rows.none()
        else:
            identity = value.lower() if field == "email" else f"{field}:{value}"
            rows = rows.filter(identifier=identity)
    fields = request.GET.get("fields[profile]")
    wanted = set(fields.split(",")) if fields else None
    data = [_profile_resource(request, c, wanted) for c in rows.order_by("pk")]
    return _paged(request, data, size)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, scopes=("data-privacy:write",), endpoint="data_privacy")
def deletion_jobs(request, account):
    data = parse_json(request)
    job = data.get("data") if isinstance(data, dict) else None
    profile = (((job or {}).get("attributes") or {}).get("profile") or {}).get("data")
    if (
        not isinstance(job, dict)
        or job.get("type") != "data-privacy-deletion-job"
        or not isinstance(profile, dict)
        or profile.get("type") != "profile"
    ):
        return _errors(400, "invalid", "Invalid input.", "A data-privacy-deletion-job with a "
                       "profile is required.")  # fmt: skip
    attributes = profile.get("attributes") or {}
    given = [f for f in ("email", "phone_number") if attributes.get(f)]
    if profile.get("id"):
        given.append("id")
    if len(given) != 1:
        return _errors(400, "invalid", "Invalid input.",
                       "Exactly one of email, phone_number or id is required.")  # fmt: skip
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    if given == ["id"]:
        pk = str(profile["id"]).removeprefix("01SBX")
        rows = rows.filter(pk=int(pk)) if pk.isdigit() else rows.none()
    elif given == ["email"]:
        rows = rows.filter(identifier=str(attributes["email"]).lower())
    else:
        rows = rows.filter(identifier=f"phone_number:{attributes['phone_number']}")
    rows.delete()
    return _response(None, status=202)


def seed_account(account) -> None:
    """Demo groups: two segments defined on the `interest` property, one list of everyone."""
    for index, (name, _, attribute, value) in enumerate(emulation.DEMO_SEGMENTS, start=1):
        SandboxSegment.objects.update_or_create(
            platform=PLATFORM,
            account=account.account,
            remote_id=index,
            defaults={
                "name": name,
                "kind": "segment" if attribute else "list",
                "rule_attribute": f"properties__{attribute}" if attribute else "",
                "rule_value": value,
            },
        )


def reset_jobs() -> None:
    with _jobs_lock:
        _jobs.clear()


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-klaviyo-account",
        "global",
        {"private_api_key": "pk_sandbox-klaviyo-private-key"},
        "SharpSend demo account",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-klaviyo-account",
        "global",
        {"private_api_key": "pk_sandbox-klaviyo-readonly-key"},
        "SharpSend demo account",
        read_only=True,
    ),
)

urlpatterns = [
    path("<str:host>/api/accounts", accounts_view),
    path("<str:host>/api/profile-bulk-import-jobs", bulk_import_jobs),
    path("<str:host>/api/profile-bulk-import-jobs/<str:job_id>", bulk_import_job),
    path("<str:host>/api/profile-bulk-import-jobs/<str:job_id>/import-errors", import_errors),
    path("<str:host>/api/lists", _groups_view("list")),
    path("<str:host>/api/lists/<str:group>", _group_view("list")),
    path("<str:host>/api/segments", _groups_view("segment")),
    path("<str:host>/api/segments/<str:group>", _group_view("segment")),
    path("<str:host>/api/profiles", profiles),
    path("<str:host>/api/data-privacy-deletion-jobs", deletion_jobs),
]
