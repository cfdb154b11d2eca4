"""The assignment admin's actions, as the Editor and Approver roles."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from campaigns.models import AssignmentStatus, CampaignSend
from integrations import roles
from integrations.models import Segment

URL = "admin:campaigns_assignment_changelist"


def member(role: str, name: str) -> User:
    user = User.objects.create_user(name, password="not-a-real-password", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def assignment(make_assignment, make_integration, monkeypatch, mailchimp_answers):
    roles.ensure_roles()
    integration = make_integration("mailchimp")
    Segment.objects.create(
        integration=integration, remote_id="3", name="All", imported_at="2026-01-01T00:00Z"
    )
    monkeypatch.setattr("integrations.services.queue.enqueue", lambda *args: None)
    return make_assignment((integration, "3", "campaign", ""))


def act(client, user, action, assignment):
    client.force_login(user)
    return client.post(reverse(URL), {"action": action, "_selected_action": [assignment.pk]})


def test_an_editor_submits_but_cannot_approve(client, assignment):
    editor = member("Editor", "editor")
    assert act(client, editor, "submit", assignment).status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.IN_REVIEW
    assert act(client, editor, "approve", assignment).status_code == 403
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.IN_REVIEW


def test_an_approver_approves_and_the_sends_are_created(client, assignment):
    assignment.status = AssignmentStatus.IN_REVIEW
    assignment.save()
    approver = member("Approver", "approver-user")
    response = act(client, approver, "approve", assignment)
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.APPROVED
    assert CampaignSend.objects.filter(target__assignment=assignment).count() == 1
    assert act(client, approver, "submit", assignment).status_code == 403  # no change right


def test_the_send_ledger_is_read_only(client, assignment):
    admin_user = member("Admin", "admin-user")
    client.force_login(admin_user)
    assert client.get(reverse("admin:campaigns_campaignsend_add")).status_code == 403


def test_the_preflight_action_reports_each_target(client, assignment):
    assignment.reply_to = ""
    assignment.save()
    editor = member("Editor", "editor")
    response = act(client, editor, "preflight", assignment)
    assert response.status_code == 302
    shown = [str(m) for m in response.wsgi_request._messages]
    assert any("needs a reply-to address" in m for m in shown), shown


def test_the_preflight_action_says_what_each_target_will_do(client, assignment):
    Segment.objects.filter(remote_id="3").update(member_count=1234)
    response = act(client, member("Editor", "editor"), "preflight", assignment)
    shown = [str(m) for m in response.wsgi_request._messages]
    assert shown == [
        "Issue 42: every target can send — mailchimp test: Regular campaign to All "
        "(1,234 members), sends the assignment's content."
    ]


def test_the_change_page_shows_each_send(client, assignment):
    assignment.status = AssignmentStatus.IN_REVIEW
    assignment.save()
    approver = member("Approver", "approver-user")
    act(client, approver, "approve", assignment)
    page = client.get(reverse("admin:campaigns_assignment_change", args=[assignment.pk]))
    assert page.status_code == 200
    assert "mailchimp test → All: <strong>Pending</strong>" in page.content.decode()


def test_the_target_form_is_offered_the_platform_s_methods_and_broadcasts(
    client, make_integration, settings
):
    from tests.integrations.platforms.support import strict
    from tests.integrations.platforms.test_customerio import APP_US, US_CREDS

    roles.ensure_roles()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    integration = make_integration("customerio", region="us", credentials=dict(US_CREDS))
    url = reverse("admin:campaigns_assignment_trigger_choices")
    query = {"integration": integration.pk, "method": "api_triggered_broadcast"}
    client.force_login(member("Viewer", "viewer"))
    assert client.get(url, query).status_code == 403
    client.force_login(member("Editor", "editor"))
    with strict() as rsps:
        rsps.get(f"{APP_US}/v1/broadcasts", json={"broadcasts": [{"id": 4, "name": "Daily"}]})
        answer = client.get(url, query).json()
    assert answer == {
        "methods": [
            {
                "key": "api_triggered_broadcast",
                "label": "API-triggered broadcast",
                "trigger_only": True,
            },
            {"key": "journey_event", "label": "Journey (event)", "trigger_only": False},
        ],
        "choices": [{"id": "4", "name": "Daily"}],
        "error": "",
    }
    assert client.get(url, {"integration": 0}).status_code == 404


def test_a_target_naming_an_unknown_broadcast_is_not_saved(make_integration, settings):
    from campaigns.admin import AssignmentTargetForm
    from tests.integrations.platforms.support import strict
    from tests.integrations.platforms.test_customerio import APP_US, US_CREDS

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    integration = make_integration("customerio", region="us", credentials=dict(US_CREDS))
    data = {
        "integration": integration.pk,
        "method": "api_triggered_broadcast",
        "remote_template_or_campaign_id": "99",
    }
    with strict() as rsps:
        rsps.get(f"{APP_US}/v1/broadcasts", json={"broadcasts": [{"id": 4, "name": "Daily"}]})
        form = AssignmentTargetForm(data)
        assert not form.is_valid()
    assert form.errors["remote_template_or_campaign_id"] == [
        "Customer.io has no such api triggered broadcast: it offers Daily (4)."
    ]


def test_send_a_test_to_me_goes_to_the_editor_s_address(client, assignment, mailchimp_answers):
    base = "https://us6.api.mailchimp.com/3.0/campaigns"
    mailchimp_answers.post(base, json={"id": "t9", "status": "save"})
    mailchimp_answers.put(f"{base}/t9/content", json={})
    test = mailchimp_answers.post(f"{base}/t9/actions/test", status=204)
    gone = mailchimp_answers.delete(f"{base}/t9", status=204)
    editor = member("Editor", "editor")
    response = act(client, editor, "send_test_to_me", assignment)
    assert "Add an email address to your user first" in _messages(client, response)
    assert test.call_count == 0
    editor.email = "editor@example.com"
    editor.save()
    response = act(client, editor, "send_test_to_me", assignment)
    assert "test sent to editor@example.com" in _messages(client, response)
    assert json.loads(test.calls[0].request.body)["test_emails"] == ["editor@example.com"]
    assert gone.call_count == 1
    viewer = member("Viewer", "viewer")
    assert act(client, viewer, "send_test_to_me", assignment).status_code == 403


def _messages(client, response) -> str:
    return " ".join(str(m) for m in client.get(response.url).context["messages"])
