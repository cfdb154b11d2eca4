"""The Klaviyo emulator's metrics list and campaign values reports (../shared/platforms/
klaviyo.md §8; specs/klaviyo/stable.json `get_metrics`, `query_campaign_values`).

`GET /api/metrics` lists the account's metrics (the emulator's: "Placed Order" and the email
metrics its webhooks report). `POST /api/campaign-values-reports {"data": {"type":
"campaign-values-report", "attributes": {"statistics", "timeframe", "conversion_metric_id",
"filter"}}}` → one result per campaign (grouped by campaign, message and channel) with the
statistics asked for, from the sandbox's seeded engagement of the campaign's audience (the same
its webhooks post); rates are fractions. 400 for an unknown statistic, a missing conversion
metric or a filter the emulator does not read (`equals` / `contains-any` on campaign_id).
Limited to 1/s and 2/m (225 a day: not emulated). No conversions happen in the sandbox.
"""

from __future__ import annotations

import re

from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox import engagement
from integrations.sandbox.emulation import parse_json
from integrations.sandbox.klaviyo.auth import EMULATOR, PLATFORM, api_response, error_response
from integrations.sandbox.klaviyo.webhooks import _audience
from integrations.sandbox.models import SandboxSend

METRICS = {
    "RESQ6t": "Placed Order",
    "Ux7mQp": "Received Email",
    "Vb2kLr": "Opened Email",
    "Wc9nTs": "Clicked Email",
}
STATISTICS = frozenset({
    "average_order_value", "bounce_rate", "bounced", "bounced_or_failed", "bounced_or_failed_rate",
    "click_rate", "click_to_open_rate", "clicks", "clicks_unique", "conversion_rate",
    "conversion_uniques", "conversion_value", "conversions", "delivered", "delivery_rate",
    "failed", "failed_rate", "open_rate", "opens", "opens_unique", "recipients",
    "revenue_per_recipient", "spam_complaint_rate", "spam_complaints", "unsubscribe_rate",
    "unsubscribe_uniques", "unsubscribes",
})  # fmt: skip
_FILTER = re.compile(
    r'^(?:equals\(campaign_id,"([^"]+)"\)|contains-any\(campaign_id,\[([^\]]*)\]\))$'
)
REPORT = {"scopes": ("campaigns:read",), "endpoint": "values_reports"}


def _invalid(detail: str, pointer: str = "/data/attributes"):
    return error_response(400, "invalid", "Invalid input.", detail, pointer=pointer)


@require_GET
@EMULATOR.endpoint(scopes=("metrics:read",), endpoint="metrics")
def metrics(request, account):
    rows = [{"type": "metric", "id": key, "attributes": {"name": name}}
            for key, name in METRICS.items()]  # fmt: skip
    return api_response({"data": rows, "links": {"self": request.build_absolute_uri()}})


def _campaign_ids(text) -> list[str] | None:
    match = _FILTER.match(text or "")
    if match is None:
        return None
    if match[1] is not None:
        return [match[1]]
    return [part.strip().strip('"') for part in match[2].split(",") if part.strip()]


def _statistics(totals: dict[str, int], wanted: list[str]) -> dict:
    sent = totals["sent"]
    counts = {
        "recipients": sent, "delivered": totals["delivered"], "opens": totals["opened"],
        "opens_unique": totals["opened"], "clicks": totals["clicked"],
        "clicks_unique": totals["clicked"],
        "bounced": totals["bounced_hard"] + totals["bounced_soft"],
        "unsubscribes": totals["unsubscribed"], "unsubscribe_uniques": totals["unsubscribed"],
        "spam_complaints": totals["complained"],
    }  # fmt: skip
    out = {}
    for name in wanted:
        if name in counts:
            out[name] = counts[name]
        elif name.endswith("_rate") and name[: -len("_rate")] in ("open", "click"):
            out[name] = round(counts[name[:-5] + "s_unique"] / sent, 4) if sent else 0.0
        else:  # conversions, revenue and the other rates: none happen in the sandbox
            out[name] = 0
    return out


@csrf_exempt
@require_POST
@EMULATOR.endpoint(**REPORT)
def campaign_values_reports(request, account):
    data = (parse_json(request) or {}).get("data") or {}
    attributes = data.get("attributes") or {}
    if data.get("type") != "campaign-values-report":
        return _invalid("data.type must be campaign-values-report", "/data/type")
    wanted = attributes.get("statistics")
    if not isinstance(wanted, list) or not wanted or set(wanted) - STATISTICS:
        return _invalid("statistics must list known statistics", "/data/attributes/statistics")
    if not isinstance(attributes.get("timeframe"), dict):
        return _invalid("timeframe is required", "/data/attributes/timeframe")
    if attributes.get("conversion_metric_id") not in METRICS:
        return _invalid("conversion_metric_id must name a metric of the account",
                        "/data/attributes/conversion_metric_id")  # fmt: skip
    ids = _campaign_ids(attributes.get("filter"))
    if ids is None or len(ids) > 100:
        return _invalid("the emulator reads equals / contains-any (≤ 100) on campaign_id",
                        "/data/attributes/filter")  # fmt: skip
    results = []
    sends = SandboxSend.objects.filter(
        platform=PLATFORM, account=account.account, kind="campaign", remote_id__in=ids,
        sent_at__isnull=False,
    )  # fmt: skip
    for send in sends.order_by("pk"):
        audience = _audience(account, send)
        if audience is None:
            continue
        totals = engagement.totals(audience.key, audience.emails, audience.subject,
                                   send.sent_at, timezone.now())  # fmt: skip
        results.append({
            "groupings": {"send_channel": "email", "campaign_id": send.remote_id,
                          "campaign_message_id": f"{send.remote_id}-m1"},
            "statistics": _statistics(totals, wanted),
        })  # fmt: skip
    return api_response({
        "data": {"type": "campaign-values-report", "id": request.headers.get("X-Request-Id", ""),
                 "attributes": {"results": results}},
        "links": {"self": request.build_absolute_uri()},
    })  # fmt: skip
