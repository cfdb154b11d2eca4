import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audience.models import Subscriber
from audience.suppression import is_suppressed
from integrations.models import PrivacyRequest, PrivacyStatus
from integrations.sandbox.models import SandboxContact
from integrations.services import sync

pytestmark = pytest.mark.django_db(transaction=True)


def run_command(*args):
    out = StringIO()
    call_command("privacy_request", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def crisp(make_integration, sandbox_url):
    integration = make_integration("crisp", name="Crisp", base_url=f"{sandbox_url}/crisp")
    Subscriber.objects.create(email="ann@example.com", first_name="Ann")
    run, _ = sync.start_sync(integration, "command")
    sync.execute_sync(run.pk)
    assert SandboxContact.objects.filter(platform="crisp", identifier="ann@example.com").exists()
    return integration


def test_delete_with_wait_completes_and_prints_each_platform(crisp, make_integration):
    make_integration("kit", name="Kit")
    out = run_command("delete", "Ann@Example.com", "--wait")
    assert "Privacy request #" in out and ": Complete" in out
    assert "SharpSend: Erased from SharpSend and suppressed." in out
    assert "Crisp: Done (Crisp deleted the contact (or held none).)" in out
    assert "Kit: Not supported (Kit cannot delete contact:" in out
    assert not SandboxContact.objects.filter(platform="crisp").exists()
    assert is_suppressed("ann@example.com")


def test_access_with_wait_writes_the_bundle(crisp, tmp_path):
    target = tmp_path / "bundle.json"
    out = run_command("access", "ann@example.com", "--wait", "--bundle", str(target))
    assert "Crisp: Done (exported)" in out
    bundle = json.loads(target.read_text())
    assert bundle["sharpsend"]["subscriber"]["first_name"] == "Ann"
    assert bundle["platforms"][0]["data"]["found"] is True


def test_a_refused_platform_exits_non_zero(make_integration, sandbox_url):
    make_integration(
        "front",
        name="Front",
        base_url=f"{sandbox_url}/front",
        credentials={"api_token": "sandbox-front-readonly-token"},
    )
    out = StringIO()
    with pytest.raises(CommandError, match="is not complete"):
        call_command("privacy_request", "delete", "ann@example.com", "--wait", stdout=out)
    assert "Front: Failed (Front refused: the key lacks the permission (HTTP 403)" in out.getvalue()
    assert PrivacyRequest.objects.get().status == PrivacyStatus.ATTENTION


def test_a_bad_email_is_refused():
    with pytest.raises(CommandError, match="not an email address"):
        run_command("delete", "nope")


def test_suppress_with_wait_keeps_the_reader_and_prints_each_platform(crisp, make_integration):
    make_integration("front", name="Front")
    out = run_command("suppress", "Ann@Example.com", "--wait")
    assert ": Complete" in out
    assert "SharpSend: Suppressed in SharpSend (data kept; nothing is sent to the reader)." in out
    assert "Crisp: Not supported (Crisp cannot suppress contact: Crisp has no suppression" in out
    assert "Front: Not supported (Front cannot suppress contact:" in out
    ann = Subscriber.objects.get(email="ann@example.com")
    assert (ann.first_name, ann.status) == ("Ann", "unsubscribed")
    assert is_suppressed("ann@example.com")
    assert SandboxContact.objects.filter(platform="crisp", identifier="ann@example.com").exists()
