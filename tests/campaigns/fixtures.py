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
