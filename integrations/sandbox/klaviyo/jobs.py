"""Klaviyo's bulk profile import jobs in the emulator: checked, queued, processed on the
emulator's clock, then written with their import errors."""

from __future__ import annotations

import itertools
import re
import threading
import uuid

import orjson
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from integrations.sandbox import emulation, store
from integrations.sandbox.emulation import parse_json, read_body
from integrations.sandbox.klaviyo.auth import (
    EMULATOR,
    HOST,
    PLATFORM,
    api_response,
    error_response,
    page_size,
    paged,
)

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

_jobs: dict[str, dict] = {}
_jobs_lock = threading.Lock()
_job_numbers = itertools.count(1)


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
        return error_response(
            400, "invalid", "Invalid input.", "data.type must be profile-bulk-import-job"
        )
    profiles = ((job.get("attributes") or {}).get("profiles") or {}).get("data")
    if not isinstance(profiles, list):
        return error_response(
            400,
            "invalid",
            "Invalid input.",
            "attributes.profiles.data is required.",
            pointer="/data/attributes/profiles/data",
        )
    if not profiles:
        return error_response(
            400,
            "invalid",
            "Invalid input.",
            "At least one profile is required.",
            pointer="/data/attributes/profiles/data",
        )
    if len(profiles) > MAX_PROFILES:
        return error_response(
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
            return error_response(
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
    # Not gated itself: listing and creating need different scopes (only a create is a write),
    # so the method picks which gated view answers.
    if request.method == "GET":
        return _list_import_jobs(request, host)
    return _create_import_job(request, host)


@EMULATOR.endpoint(scopes=("lists:read", "profiles:read"), endpoint="bulk_import.read")
def _list_import_jobs(request, account):
    with _jobs_lock:
        mine = [j for j in _jobs.values() if j["account"] == account.account]
        for job in mine:
            _advance(job)
        data = [_job_resource(request, j) for j in mine[-(page_size(request, 100) or 20) :]]
    return api_response({"data": data, "links": {"self": request.build_absolute_uri()}})


@EMULATOR.endpoint(scopes=("lists:write", "profiles:write"), endpoint="bulk_import", write=True)
def _create_import_job(request, account):
    if len(read_body(request)) > MAX_BODY:
        return error_response(
            413, "too_large", "Payload too large.", "The body is larger than 5MB."
        )
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
        return api_response({"data": _job_resource(request, job)}, status=202)


def _job(account, job_id: str) -> dict | None:
    job = _jobs.get(job_id)
    return job if job is not None and job["account"] == account.account else None


@require_GET
@EMULATOR.endpoint(scopes=("lists:read", "profiles:read"), endpoint="bulk_import.read")
def bulk_import_job(request, account, job_id: str):
    with _jobs_lock:
        job = _job(account, job_id)
        if job is None:
            return error_response(404, "not_found", "Not found.", f"No job with id {job_id}.")
        _advance(job)
        return api_response(
            {"data": _job_resource(request, job), "links": {"self": request.build_absolute_uri()}}
        )


@require_GET
@EMULATOR.endpoint(scopes=("profiles:read",), endpoint="bulk_import.read")
def import_errors(request, account, job_id: str):
    size = page_size(request, 100)
    if size is None:
        return error_response(400, "invalid", "Invalid input.", "page[size] must be 1 to 100.",
                              parameter="page[size]")  # fmt: skip
    with _jobs_lock:
        job = _job(account, job_id)
        if job is None:
            return error_response(404, "not_found", "Not found.", f"No job with id {job_id}.")
        _advance(job)
        rows = [{k: v for k, v in e.items() if k != "_index"} for e in job["errors"]]
    return paged(request, rows, size)


def reset_jobs() -> None:
    with _jobs_lock:
        _jobs.clear()
