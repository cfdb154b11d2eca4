"""manage.py register_webhooks: inline, over real HTTP against the sandbox; audited; twice is
once; a platform without the API, or one that refuses, exits non-zero with the reason."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from integrations.models import AuditAction, AuditEntry, Integration, RegisteredWebhook
from integrations.sandbox import accounts, registry
from integrations.sandbox.models import SandboxWebhook

pytestmark = pytest.mark.django_db(transaction=True)


def run_command(*args) -> str:
    out = StringIO()
    call_command("register_webhooks", *args, stdout=out)
    return out.getvalue()


def test_registers_with_the_emulator_and_prints_the_hooks(
    make_integration, sandbox_url, live_server, settings, fake_clock
):
    settings.CONSOLE_BASE_URL = live_server.url
    registry.seed("sendgrid")
    integration = make_integration("sendgrid", name="SG", base_url=f"{sandbox_url}/sendgrid")
    out = run_command("SG")
    (hook,) = SandboxWebhook.objects.filter(platform="sendgrid")
    assert out.startswith("SG: 1 webhook(s) registered; 0 already in place")
    assert f"{hook.remote_id}: {live_server.url}/webhooks/{integration.webhook_id}/" in out
    assert "active" in out
    assert (
        Integration.objects.get(pk=integration.pk).secrets["webhook_public_key"] == hook.public_key
    )
    again = run_command(str(integration.pk))
    assert "0 webhook(s) registered; 1 already in place" in again
    assert SandboxWebhook.objects.filter(platform="sendgrid").count() == 1
    assert RegisteredWebhook.objects.filter(integration=integration).count() == 1
    entries = AuditEntry.objects.filter(action=AuditAction.WEBHOOKS_REGISTERED)
    assert [e.via for e in entries] == ["manage.py register_webhooks"] * 2
    assert hook.public_key not in "".join(e.summary for e in entries)


def test_a_platform_without_the_api_exits_with_the_reason(make_integration):
    make_integration("braze", name="Braze", credentials={"api_key": "x"})
    with pytest.raises(CommandError, match="Braze cannot register webhooks: Braze has no webhook"):
        run_command("Braze")
    assert not AuditEntry.objects.filter(action=AuditAction.WEBHOOKS_REGISTERED).exists()


def test_a_refusal_exits_with_the_platforms_answer(
    make_integration, sandbox_url, live_server, settings, fake_clock
):
    settings.CONSOLE_BASE_URL = live_server.url
    registry.seed("sendgrid")
    integration = make_integration("sendgrid", name="SG", base_url=f"{sandbox_url}/sendgrid")
    for n in range(5):  # the account's plan allows 5 webhooks, all taken by others
        SandboxWebhook.objects.create(
            platform="sendgrid", account=accounts.demo_account("sendgrid").account,
            remote_id=f"other-{n}", url=f"{live_server.url}/webhooks/other-{n}/",
        )  # fmt: skip
    with pytest.raises(CommandError, match="maximum number of webhooks"):
        run_command("SG")
    assert not RegisteredWebhook.objects.exists()
    assert "webhook_public_key" not in Integration.objects.get(pk=integration.pk).secrets


def test_an_unknown_integration_is_listed(make_integration):
    with pytest.raises(CommandError, match="No integration with id or name 'nope'"):
        run_command("nope")
