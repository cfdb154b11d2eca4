"""Reading a send's metrics: the exact requests (docs/platforms/<slug>.md §8) and the figures
the console makes of the answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from responses import matchers

from integrations.platforms.customerio import CustomerIoClient
from integrations.platforms.customerio.metrics import period_since
from integrations.platforms.mailchimp import MailchimpClient
from integrations.platforms.mailchimp.metrics import REPORT_FIELDS
from integrations.platforms.metrics import MetricsRef, SendMetrics
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("steady_retries")


def test_mailchimp_report_becomes_send_metrics(make_integration):
    credentials = {"api_key": "0123456789abcdef0123456789abcdef-us6", "list_id": "abc123"}
    client = MailchimpClient(make_integration("mailchimp", region="auto", credentials=credentials))
    with strict() as rsps:
        rsps.get(
            "https://us6.api.mailchimp.com/3.0/reports/c0ffee",
            match=[matchers.query_param_matcher({"fields": REPORT_FIELDS})],
            json={
                "emails_sent": 1000, "abuse_reports": 1, "unsubscribed": 4,
                "opens": {"opens_total": 410, "unique_opens": 300},
                "clicks": {"clicks_total": 90, "unique_subscriber_clicks": 60},
                "bounces": {"hard_bounces": 7, "soft_bounces": 3, "syntax_errors": 0},
            },
        )  # fmt: skip
        metrics = client.campaign_metrics(MetricsRef(remote_id="c0ffee"))
    assert metrics == SendMetrics(
        sent=1000, delivered=990, opened=300, clicked=60, bounced=10, unsubscribed=4,
        complained=1, opens_total=410, clicks_total=90,
    )  # fmt: skip


def test_customerio_broadcast_series_are_summed_since_the_send(make_integration, fake_clock):
    credentials = {"site_id": "s", "track_api_key": "t", "app_api_key": "app-key-test"}
    client = CustomerIoClient(make_integration("customerio", region="us", credentials=credentials))
    sent_at = datetime.fromtimestamp(fake_clock.now(), UTC) - timedelta(hours=5, minutes=10)
    with strict() as rsps:
        rsps.get(
            "https://api.customer.io/v1/broadcasts/2/metrics",
            match=[
                matchers.header_matcher({"Authorization": "Bearer app-key-test"}),
                matchers.query_param_matcher({"period": "hours", "steps": "6"}),
            ],
            json={"metric": {"series": {
                "sent": [0, 500, 0, 0, 0, 0, 0], "delivered": [0, 490, 2, 0, 0, 0, 0],
                "opened": [0, 40, 60, 30, 10, 5, 5], "clicked": [0, 5, 9, 3, 1, 0, 0],
                "bounced": [0, 8, 0, 0, 0, 0, 0], "spammed": [0, 0, 1, 0, 0, 0, 0],
                "unsubscribed": [0, 1, 0, 1, 0, 0, 0],
            }}},
        )  # fmt: skip
        metrics = client.campaign_metrics(MetricsRef("", "17", "2", sent_at))
    assert (metrics.sent, metrics.delivered, metrics.opened, metrics.clicked) == (500, 492, 150, 18)
    assert (metrics.bounced, metrics.complained, metrics.unsubscribed) == (8, 1, 2)
    assert metrics.converted is None  # not in the answer: not reported, not zero
    assert "broadcast" in metrics.note


def test_the_series_asked_for_is_the_shortest_that_covers_the_send(fake_clock):
    now = datetime.fromtimestamp(fake_clock.now(), UTC)
    assert period_since(now - timedelta(minutes=20)) == {"period": "hours", "steps": 1}
    assert period_since(now - timedelta(hours=30)) == {"period": "days", "steps": 2}
    assert period_since(now - timedelta(days=90)) == {"period": "days", "steps": 45}
    assert period_since(None) == {"period": "days", "steps": 45}


def test_campaign_monitor_summary_becomes_send_metrics(make_integration):
    from integrations.platforms.campaign_monitor import CampaignMonitorClient
    from tests.integrations.platforms.test_campaign_monitor import CLIENT, KEY, LIST

    credentials = {"api_key": KEY, "client_id": CLIENT, "list_id": LIST}
    client = CampaignMonitorClient(make_integration("campaign_monitor", credentials=credentials))
    with strict() as rsps:
        rsps.get(
            "https://api.createsend.com/api/v3.3/campaigns/fc0ce7105baeaf97f47c99be31d02a91/"
            "summary.json",
            json={
                "Name": "Issue 42", "Recipients": 1000, "TotalOpened": 345, "UniqueOpened": 250,
                "Clicks": 73, "Unsubscribed": 4, "Bounced": 12, "SpamComplaints": 1,
                "Forwards": 11, "Likes": 32, "Mentions": 0,
                "WebVersionURL": "https://sharpsend.createsend1.com/t/y-5A0E2D6E63D4E7C3",
            },
        )  # fmt: skip
        metrics = client.campaign_metrics(MetricsRef(remote_id="fc0ce7105baeaf97f47c99be31d02a91"))
    # No delivered count in the summary: None, never a made-up figure.
    assert metrics == SendMetrics(
        sent=1000, opened=250, clicked=73, bounced=12, unsubscribed=4, complained=1,
        opens_total=345,
    )  # fmt: skip


def test_kit_broadcast_stats_become_send_metrics_with_counts_from_its_rates(make_integration):
    from integrations.platforms.kit import KitClient

    client = KitClient(make_integration("kit", credentials={"api_key": "kit_test-key-0123456789"}))
    with strict() as rsps:
        rsps.get(
            "https://api.kit.com/v4/broadcasts/1042/stats",
            match=[matchers.header_matcher({"X-Kit-Api-Key": "kit_test-key-0123456789"})],
            json={"broadcast": {"id": 1042, "stats": {
                "recipients": 1234, "open_rate": 41.17, "emails_opened": 508, "click_rate": 6.89,
                "unsubscribe_rate": 0.32}}},
        )  # fmt: skip
        metrics = client.campaign_metrics(MetricsRef(remote_id="1042"))
    # 6.89 % of 1,234 is 85.02 readers; 0.32 % is 3.95: Kit's two decimals pin the counts.
    assert (metrics.sent, metrics.opened, metrics.clicked, metrics.unsubscribed) == (
        1234, 508, 85, 4,
    )  # fmt: skip
    assert (metrics.bounced, metrics.complained, metrics.delivered) == (None, None, None)
    assert "rates" in metrics.note


def test_kit_stats_not_there_yet_are_blank_not_zero(make_integration):
    from integrations.platforms.kit import KitClient

    client = KitClient(make_integration("kit", credentials={"api_key": "kit_test-key-0123456789"}))
    with strict() as rsps:
        rsps.get("https://api.kit.com/v4/broadcasts/7/stats", json={"broadcast": {"id": 7, "stats": {
            "recipients": None, "open_rate": None, "emails_opened": None, "click_rate": None,
            "unsubscribe_rate": None}}})  # fmt: skip
        metrics = client.campaign_metrics(MetricsRef(remote_id="7"))
    assert (metrics.sent, metrics.opened, metrics.clicked) == (None, None, None)


@pytest.mark.parametrize(
    ("slug", "method", "reads"),
    [
        ("customerio", "api_triggered_broadcast", True),
        ("customerio", "journey_event", False),  # the journey's campaign, not this send
        ("campaign_monitor", "campaign", True),
        ("kit", "broadcast", True),
        ("braze", "api_triggered_campaign", False),  # Braze: no metrics read at all yet
    ],
)
def test_which_sends_have_figures_the_console_reads(slug, method, reads):
    from integrations.platforms.registry import get_platform

    assert get_platform(slug).reads_metrics(method) is reads


def test_sendgrid_single_send_stats_become_send_metrics(make_integration, fake_clock):
    import json

    from integrations.platforms.sendgrid import SendGridClient
    from tests.specs import SPECS

    client = SendGridClient(
        make_integration("sendgrid", region="global", credentials={"api_key": "SG.test-key-0"})
    )
    spec = json.loads((SPECS / "sendgrid/tsg_mc_stats_v3.json").read_text())
    operation = spec["paths"]["/v3/marketing/stats/singlesends/{id}"]["get"]
    documented = set()
    for parameter in operation["parameters"]:
        if "$ref" in parameter:
            parameter = spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
        documented.add(parameter["name"])
    sent_at = datetime.fromtimestamp(fake_clock.time, UTC) - timedelta(days=2)
    today = datetime.fromtimestamp(fake_clock.time, UTC).date()
    params = {"aggregated_by": "total", "start_date": (today - timedelta(days=2)).isoformat(),
              "end_date": today.isoformat(), "timezone": "UTC"}  # fmt: skip
    assert set(params) <= documented
    stats = {"requests": 1000, "delivered": 985, "opens": 420, "unique_opens": 301,
             "clicks": 96, "unique_clicks": 61, "bounces": 15, "bounce_drops": 0,
             "invalid_emails": 0, "spam_reports": 2, "spam_report_drops": 0, "unsubscribes": 5}  # fmt: skip
    uuid = "8f2b0e7c-5e2a-4b59-9d1d-3c7a9a1f0b11"
    with strict() as rsps:
        rsps.get(
            f"https://api.sendgrid.com/v3/marketing/stats/singlesends/{uuid}",
            match=[matchers.query_param_matcher(params),
                   matchers.header_matcher({"Authorization": "Bearer SG.test-key-0"})],
            json={"results": [{"id": uuid, "ab_variation": "all", "ab_phase": "all",
                               "aggregation": "total", "stats": stats}],
                  "_metadata": {"count": 1}},
        )  # fmt: skip
        metrics = client.campaign_metrics(MetricsRef(remote_id=uuid, sent_at=sent_at))
    assert metrics == SendMetrics(
        sent=1000, delivered=985, opened=301, clicked=61, bounced=15, unsubscribed=5,
        complained=2, opens_total=420, clicks_total=96,
    )  # fmt: skip


# --- Klaviyo: one values report for the sends due (1/s, 2/m, 225 a day) -------------------------


@pytest.fixture(scope="module")
def klaviyo_report_schema():
    import json

    from tests.integrations.platforms.test_klaviyo import _closed, _resolve
    from tests.specs import SPECS

    spec = json.loads((SPECS / "klaviyo/stable.json").read_text())
    content = spec["paths"]["/api/campaign-values-reports"]["post"]["requestBody"]["content"]
    schema = content["application/vnd.api+json"]["schema"]
    return _closed(_resolve(schema, spec["components"]["schemas"]))


def test_klaviyo_reads_the_sends_due_in_one_values_report(
    make_integration, fake_clock, klaviyo_report_schema
):
    import jsonschema

    from integrations.platforms.klaviyo import KlaviyoClient
    from integrations.platforms.klaviyo.metrics import STATISTICS
    from tests.integrations.platforms.test_klaviyo import HEADERS, JSON_API_BODY

    client = KlaviyoClient(
        make_integration(
            "klaviyo", credentials={"private_api_key": "pk_sandbox-klaviyo-private-key"}
        )
    )
    now = datetime.fromtimestamp(fake_clock.time, UTC)
    refs = [MetricsRef("01JCAMPA", sent_at=now - timedelta(hours=30)),
            MetricsRef("01JCAMPB", sent_at=now - timedelta(hours=2)),
            MetricsRef("01JGONE0", sent_at=now - timedelta(hours=1))]  # fmt: skip
    sent = {"data": {"type": "campaign-values-report", "attributes": {
        "statistics": sorted(set(STATISTICS.values())),
        "timeframe": {"start": (now - timedelta(hours=31)).isoformat(timespec="seconds"),
                      "end": now.isoformat(timespec="seconds")},
        "conversion_metric_id": "RESQ6t",
        "filter": 'contains-any(campaign_id,["01JCAMPA","01JCAMPB","01JGONE0"])',
    }}}  # fmt: skip
    assert not list(jsonschema.Draft4Validator(klaviyo_report_schema).iter_errors(sent))
    stats = {"recipients": 1000, "delivered": 990, "opens": 520, "opens_unique": 400,
             "clicks": 90, "clicks_unique": 70, "bounced": 10, "unsubscribe_uniques": 3,
             "spam_complaints": 1, "conversion_uniques": 4}  # fmt: skip
    with strict() as rsps:
        rsps.get("https://a.klaviyo.com/api/metrics", match=[HEADERS], json={"data": [
            {"type": "metric", "id": "Ux7mQp", "attributes": {"name": "Received Email"}},
            {"type": "metric", "id": "RESQ6t", "attributes": {"name": "Placed Order"}}]})  # fmt: skip
        rsps.post(
            "https://a.klaviyo.com/api/campaign-values-reports",
            match=[HEADERS, JSON_API_BODY, matchers.json_params_matcher(sent, strict_match=True)],
            json={"data": {"type": "campaign-values-report", "attributes": {"results": [
                {"groupings": {"send_channel": "email", "campaign_id": "01JCAMPA",
                               "campaign_message_id": "01JMSGA"}, "statistics": stats},
                {"groupings": {"send_channel": "sms", "campaign_id": "01JCAMPA",
                               "campaign_message_id": "01JMSGS"}, "statistics": {"recipients": 7}},
                {"groupings": {"send_channel": "email", "campaign_id": "01JCAMPB",
                               "campaign_message_id": "01JMSGB"},
                 "statistics": {**stats, "recipients": 50, "opens_unique": 5}},
            ]}}},
        )  # fmt: skip
        a, b, gone = client.campaign_metrics_of(refs)
    assert a == SendMetrics(
        sent=1000, delivered=990, opened=400, clicked=70, bounced=10, unsubscribed=3,
        complained=1, converted=4, opens_total=520, clicks_total=90,
        note="conversions: Placed Order",
    )  # fmt: skip
    assert (b.sent, b.opened) == (50, 5)  # the SMS row of A is not its email figures
    assert gone == SendMetrics(note="not in Klaviyo's report yet")  # blank, never zero
