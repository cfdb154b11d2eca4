"""The SendGrid emulator's jobs: an import's status (pending on the first poll, then its
outcome) and its errors file."""

from __future__ import annotations

import csv
import io

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from integrations.sandbox.emulation import json_response
from integrations.sandbox.sendgrid.auth import EMULATOR, _errors
from integrations.sandbox.sendgrid.state import _jobs, _jobs_lock


@require_GET
@EMULATOR.endpoint(group="contacts.imports")
def import_status(request, account, job_id: str):
    with _jobs_lock:
        job = _jobs.get(job_id)
        if job is None or job["account"] != account.account:
            return _errors("job not found", 404)
        job["polls"] += 1
        pending = job["polls"] == 1
        snapshot = dict(job)
    body = {
        "id": job_id,
        "status": "pending" if pending else snapshot["status"],
        "job_type": snapshot["job_type"],
        "results": {} if pending else snapshot["results"],
        "started_at": "2024-01-01T00:00:00Z",
    }
    if not pending:
        body["finished_at"] = "2024-01-01T00:00:05Z"
    return json_response(body)


@require_GET
def import_errors(request, host, job_id: str):
    """The errors file: a pre-signed URL, so no key is asked for (or should be sent)."""
    # Not behind the gate: SendGrid's file link authenticates by its token, not by a key.
    EMULATOR.region(host)
    if "Authorization" in request.headers:
        return HttpResponse("unexpected Authorization header", status=400)
    with _jobs_lock:
        job = _jobs.get(job_id)
    if job is None or not job["errors"]:
        raise Http404("no errors file")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "error"])
    for email, message in job["errors"]:
        writer.writerow([email, message])
    return HttpResponse(out.getvalue(), content_type="text/csv")
