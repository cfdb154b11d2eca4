from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from integrations.models import IntegrationStatus


def run_command(*args):
    out = StringIO()
    call_command("test_connection", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_ok_connection_prints_the_report(make_integration, sandbox_url):
    integration = make_integration("customerio", name="CIO", base_url=f"{sandbox_url}/customerio")
    out = run_command(str(integration.pk))
    assert out.startswith("CIO: ok\n")
    assert "can write: yes" in out
    assert "permissions:" in out
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.CONNECTED
    assert integration.connection_report["ok"] is True


@pytest.mark.django_db(transaction=True)
def test_refused_credentials_exit_non_zero(make_integration, sandbox_url):
    integration = make_integration(
        "customerio",
        name="CIO bad",
        base_url=f"{sandbox_url}/customerio",
        credentials={
            "site_id": "sandbox-site-us",
            "track_api_key": "wrong",
            "app_api_key": "wrong",
        },
    )
    out = StringIO()
    with pytest.raises(CommandError, match="the connection test failed") as excinfo:
        call_command("test_connection", "CIO bad", stdout=out)
    assert excinfo.value.returncode == 1
    assert "CIO bad: FAILED" in out.getvalue()
    assert "detail: " in out.getvalue()
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR


@pytest.mark.django_db(transaction=True)
def test_read_only_key_is_refused(make_integration, sandbox_url):
    make_integration(
        "iterable",
        name="Iterable read-only",
        base_url=f"{sandbox_url}/iterable",
        credentials={"api_key": "sandbox-iterable-readonly-key-us"},
    )
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("test_connection", "Iterable read-only", stdout=out)
    assert "can write: no" in out.getvalue()


@pytest.mark.django_db
def test_unknown_integration(make_integration):
    with pytest.raises(CommandError, match="there are no integrations yet"):
        run_command("ghost")
