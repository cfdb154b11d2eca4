"""The sandbox answers this machine and staff only, and says when it should not be on."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core import checks

from integrations.sandbox import guard

pytestmark = pytest.mark.django_db

ELSEWHERE = {"REMOTE_ADDR": "203.0.113.9"}
ROOT = Path(__file__).resolve().parents[3]
LIST_URL = "/sandbox/iterable/api.iterable.com/api/lists"


def test_an_anonymous_visitor_from_elsewhere_is_refused(client):
    response = client.get(LIST_URL, headers={"Api-Key": "anything"}, **ELSEWHERE)
    assert response.status_code == 403
    assert b"only requests from this machine and signed-in staff" in response.content
    response = client.post(LIST_URL, data="{}", content_type="application/json", **ELSEWHERE)
    assert response.status_code == 403


def test_this_machine_and_staff_are_answered(client):
    assert client.get(LIST_URL).status_code != 403  # the test client comes from 127.0.0.1
    client.force_login(User.objects.create_user("staff", is_staff=True))
    assert client.get(LIST_URL, **ELSEWHERE).status_code != 403


def test_a_non_staff_user_from_elsewhere_is_refused(client):
    client.force_login(User.objects.create_user("reader"))
    assert client.get(LIST_URL, **ELSEWHERE).status_code == 403


def test_the_rest_of_the_console_is_not_affected(client):
    assert client.get("/admin/login/", **ELSEWHERE).status_code == 200


@pytest.mark.parametrize(
    "enabled, debug, warnings, errors",
    [(True, True, [], ["sharpsend.E001"]), (True, False, ["sharpsend.W001"], ["sharpsend.E001"]),
     (False, False, [], [])],
)  # fmt: skip
def test_checks_say_when_the_sandbox_should_be_off(settings, enabled, debug, warnings, errors):
    settings.SANDBOX_ENABLED, settings.DEBUG = enabled, debug
    assert [m.id for m in guard.sandbox_without_debug(None)] == warnings
    assert [m.id for m in guard.sandbox_in_production(None)] == errors
    deploy = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert set(errors) <= {m.id for m in deploy}


@pytest.mark.parametrize(
    "environment, enabled",
    [({"DEBUG": "false"}, "False"), ({"DEBUG": "true"}, "True"),
     ({"DEBUG": "false", "SANDBOX_ENABLED": "true"}, "True"),
     ({"DEBUG": "true", "SANDBOX_ENABLED": "false"}, "False")],
)  # fmt: skip
def test_the_sandbox_follows_debug_unless_told(environment, enabled):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SANDBOX_ENABLED")}
    env.update(environment, DJANGO_SETTINGS_MODULE="sharpsend.settings")
    code = "from django.conf import settings; print(settings.SANDBOX_ENABLED)"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert result.stdout.strip() == enabled, result.stderr
