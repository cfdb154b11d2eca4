"""Sync logs: an integration's runs, a run's records, live progress, failures as CSV."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from integrations import formatting, selectors
from integrations.models import (
    FAILED_OUTCOMES,
    Integration,
    Outcome,
    SyncMode,
    SyncRun,
    SyncStatus,
    SyncTrigger,
)
from integrations.platforms.errors import PlatformError
from integrations.services import queue, sync
from integrations.services.mapping import MappingError
from sharpsend.csv_export import csv_response

RUNS_PER_PAGE = 20
RECORDS_PER_PAGE = 50
FINISHED = {SyncStatus.SUCCEEDED, SyncStatus.PARTIAL, SyncStatus.FAILED, SyncStatus.INTERRUPTED}

viewer = permission_required("integrations.view_integration", raise_exception=True)
runner = permission_required("integrations.run_sync", raise_exception=True)


def _context(request, **extra) -> dict:
    return {**admin.site.each_context(request), **extra}


def _integration_page(request, integration: Integration, **extra) -> HttpResponse:
    runs = Paginator(selectors.runs_of(integration), RUNS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "integrations/integration_detail.html",
        _context(
            request,
            title=integration.name,
            integration=integration,
            platform=integration.platform_class,
            runs=runs,
            usage=selectors.api_usage(integration),
            mappings=selectors.field_mappings(integration),
            token=selectors.token_health(integration),
            webhooks=selectors.webhook_health(integration),
            **extra,
        ),
    )


@staff_member_required
@viewer
def integration_detail(request, pk: int):
    return _integration_page(request, get_object_or_404(Integration, pk=pk))


# A dry run asks for run_sync, as a sync does: it shows every mapped value of real
# subscribers, and on platforms that name fields by id it reads them with the credentials.
@require_POST
@staff_member_required
@viewer
@runner
def dry_run(request, pk: int):
    integration = get_object_or_404(Integration, pk=pk)
    try:
        planned, error = sync.dry_run_requests(integration), ""
    except (MappingError, PlatformError, sync.StopRun) as exc:
        planned, error = [], getattr(exc, "message", None) or str(exc)
    return _integration_page(request, integration, dry_run={"requests": planned, "error": error})


@staff_member_required
@viewer
def run_detail(request, pk: int):
    run = get_object_or_404(
        SyncRun.objects.select_related("integration", "segment_push__segment"), pk=pk
    )
    outcome = request.GET.get("outcome", "")
    query = request.GET.get("q", "").strip()
    records = Paginator(selectors.records_of(run, outcome, query), RECORDS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "integrations/run_detail.html",
        _context(
            request,
            title=f"{'Segment push' if run.is_segment_push else 'Sync'} #{run.pk} of "
            f"{run.integration.name}",
            run=run,
            integration=run.integration,
            records=records,
            outcome=outcome,
            query=query,
            outcomes=[(o.value, o.label, getattr(run, o.value)) for o in Outcome],
            failed_outcomes=[(o.value, o.label) for o in FAILED_OUTCOMES],
            finished=run.status in FINISHED,
        ),
    )


@staff_member_required
@viewer
def run_status(request, pk: int):
    """The run's progress, polled by its page while it runs."""
    run = get_object_or_404(SyncRun, pk=pk)
    return JsonResponse(
        {
            "status": run.status,
            "status_label": run.get_status_display(),
            "finished": run.status in FINISHED,
            "progress": run.progress_percent,
            "seen": run.seen,
            "total": run.total,
            "job_state": run.job_state,
            "counts": {o.value: getattr(run, o.value) for o in Outcome},
            "api_calls": run.api_calls,
            "api_calls_text": formatting.counted(run.api_calls, "API call"),
            "error": run.error,
        }
    )


@staff_member_required
@viewer
def run_failures_csv(request, pk: int):
    run = get_object_or_404(SyncRun, pk=pk)
    records = selectors.records_of(run).order_by("id").iterator(chunk_size=2000)
    if run.is_segment_push:  # the member as sent, and the change (add/remove) refused
        header = ["member", "change", "outcome", "code", "message", "hint"]
        rows = (
            [r.email, r.action, r.get_outcome_display(), r.code, r.message, r.hint] for r in records
        )
        return csv_response(f"segment-push-{run.pk}-failures.csv", header, rows)
    rows = ([r.email, r.get_outcome_display(), r.code, r.message, r.hint] for r in records)
    return csv_response(
        f"sync-{run.pk}-failures.csv", ["email", "outcome", "code", "message", "hint"], rows
    )


def _start(request, integration: Integration, mode: str, trigger: str) -> HttpResponse:
    run, created = queue.enqueue_sync(integration, trigger, mode, actor=request.user, via="console")
    if created:
        messages.success(request, f"Sync #{run.pk} of {integration.name} queued.")
    else:
        messages.warning(request, f"Sync #{run.pk} of {integration.name} is already {run.status}.")
    return redirect(reverse("integrations:run", args=[run.pk]))


@require_POST
@staff_member_required
@runner
def sync_now(request, pk: int):
    integration = get_object_or_404(Integration, pk=pk)
    mode = SyncMode.FULL if request.POST.get("mode") == SyncMode.FULL else SyncMode.CHANGED
    return _start(request, integration, mode, SyncTrigger.MANUAL)


@require_POST
@staff_member_required
@runner
def retry_failed(request, pk: int):
    run = get_object_or_404(
        SyncRun.objects.select_related("integration", "segment_push__segment"), pk=pk
    )
    if run.is_segment_push:  # a push sends its refused changes again, and only what is left
        push = run.segment_push
        again, created = queue.enqueue_segment_push(
            push.segment, run.integration, actor=request.user, via="console"
        )
        if created:
            messages.success(request, f"Segment push #{again.pk} of {push.segment} queued.")
        else:
            messages.warning(request, f"Segment push #{again.pk} is already {again.status}.")
        return redirect(reverse("integrations:run", args=[again.pk]))
    if run.is_import:
        messages.warning(
            request,
            "An import's failed profiles are the platform's: correct them there, then import "
            "again.",
        )
        return redirect(reverse("integrations:run", args=[run.pk]))
    return _start(request, run.integration, SyncMode.RETRY, SyncTrigger.MANUAL)
