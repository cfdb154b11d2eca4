"""What the privacy tests share: tasks run inline, and staff of a given role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django_q.conf import Conf


@pytest.fixture
def inline_queue(monkeypatch):
    """Queued tasks run at once, in the test's process (django-q2's sync mode)."""
    monkeypatch.setattr(Conf, "SYNC", True)


def staff(client, role: str):
    """A staff user in `role` (a seeded group), logged in on `client`."""
    user = User.objects.create_user(role.lower().replace(" ", "-"), password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


@pytest.fixture
def officer(client):
    return staff(client, "Privacy officer")
