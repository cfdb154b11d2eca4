"""Login throttling, the Content Security Policy, and the production profile's deploy check."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User

ROOT = Path(__file__).resolve().parents[2]
# What this test run's environment carries that a production machine would not (the browser
# tests allow Django's async-unsafe calls for Playwright).
NOT_IN_PRODUCTION = ("DEBUG", "SANDBOX_ENABLED", "DJANGO_ALLOW_ASYNC_UNSAFE")


@pytest.mark.django_db
def test_repeated_wrong_passwords_lock_the_login_out(client, settings):
    User.objects.create_user("staffer", password="right-horse-battery", is_staff=True)
    wrong = {"username": "staffer", "password": "wrong-guess"}
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/admin/login/", wrong).status_code == 200  # the form, its error
    assert client.post("/admin/login/", wrong).status_code == 429  # the last one allowed
    right = {"username": "staffer", "password": "right-horse-battery"}
    assert client.post("/admin/login/", right).status_code == 429  # locked, even when right
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_right_password_after_a_few_wrong_ones_still_logs_in(client):
    User.objects.create_user("staffer", password="right-horse-battery", is_staff=True)
    for _ in range(2):
        client.post("/admin/login/", {"username": "staffer", "password": "wrong-guess"})
    response = client.post(
        "/admin/login/", {"username": "staffer", "password": "right-horse-battery"}
    )
    assert response.status_code == 302 and "_auth_user_id" in client.session


@pytest.mark.django_db
def test_pages_carry_a_policy_that_allows_no_inline_script(client):
    response = client.get("/admin/login/")
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


def test_no_template_carries_an_inline_script():
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        assert "<script>" not in text and " onclick=" not in text, template


def test_the_production_profile_passes_the_deploy_check():
    env = {k: v for k, v in os.environ.items() if k not in NOT_IN_PRODUCTION}
    env.update(
        DJANGO_SETTINGS_MODULE="sharpsend.settings_production",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="console.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_fails_when_the_sandbox_is_on_in_production():
    env = {k: v for k, v in os.environ.items() if k not in NOT_IN_PRODUCTION}
    env.update(
        DJANGO_SETTINGS_MODULE="sharpsend.settings_production",
        DEBUG="false",
        SANDBOX_ENABLED="true",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="console.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        env=env, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0
    assert "sharpsend.E001" in result.stderr + result.stdout
