"""Assignments with targets, and the users who write and approve them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from campaigns.models import Assignment, AssignmentTarget
from integrations.models import Segment


def _user(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, password="not-a-real-password", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def author(db):
    return _user("author", "view_assignment", "add_assignment", "change_assignment")


@pytest.fixture
def approver(db):
    return _user("approver", "view_assignment", "approve_assignment")


@pytest.fixture
def make_assignment(author):
    """make_assignment((integration, segment_remote_id, method, remote_campaign_id), …)."""

    def make(*targets, **fields) -> Assignment:
        values = {
            "title": "Issue 42",
            "subject": "Markets this week",
            "preview_text": "Three charts",
            "html": "<p>Hello readers</p>",
            "plain_text": "Hello readers",
            "from_name": "The Desk",
            "reply_to": "desk@example.com",
            **fields,
        }
        assignment = Assignment.objects.create(author=author, **values)
        for integration, segment_id, method, remote in targets:
            segment = None
            if segment_id:
                segment = Segment.objects.filter(
                    integration=integration, remote_id=segment_id
                ).first()
            AssignmentTarget.objects.create(
                assignment=assignment,
                integration=integration,
                segment=segment,
                method=method,
                remote_template_or_campaign_id=remote,
            )
        return assignment

    return make


@pytest.fixture
def mailchimp_answers():
    """Mailchimp's answer to the pre-flight's segment check (segment 3 of the demo audience
    exists), as a strict-shaped `responses` mock; other calls are refused (not registered)."""
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(
            "https://us6.api.mailchimp.com/3.0/lists/sandbox6a/segments/3",
            match=[responses.matchers.query_param_matcher({"fields": "id,member_count"})],
            json={"id": 3, "member_count": 5},
        )
        yield rsps
