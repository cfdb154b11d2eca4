"""The roles' groups: seeded after migrate, once, and kept to what integrations/roles.py says."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured

from integrations import roles

pytestmark = pytest.mark.django_db


def perms_of(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_migrate_seeded_every_role_with_its_permissions():
    # The test database was migrated: the groups exist without anyone running a command.
    assert set(Group.objects.values_list("name", flat=True)) >= {r.name for r in roles.ROLES}
    assert perms_of("Viewer") == set(roles.VIEWER.codenames())
    assert perms_of("Operator") == perms_of("Viewer") | {
        "integrations.run_sync",
        "integrations.replay_webhookevent",
    }
    admin = perms_of("Admin")
    assert {
        "integrations.add_integration",
        "integrations.change_integration",
        "integrations.delete_integration",
        "integrations.change_oauthconnection",
        "integrations.view_auditentry",
    } <= admin
    assert not any(p.endswith(("add_auditentry", "change_auditentry", "delete_auditentry"))
                   for p in admin)  # fmt: skip
    assert "integrations.run_sync" not in perms_of("Privacy officer")


def test_seeding_again_neither_duplicates_nor_keeps_stale_permissions():
    viewer = Group.objects.get(name="Viewer")
    viewer.permissions.add(Permission.objects.get(codename="delete_integration"))
    roles.ensure_roles()
    roles.ensure_roles()
    assert Group.objects.filter(name="Viewer").count() == 1
    assert perms_of("Viewer") == set(roles.VIEWER.codenames())


def test_a_role_whose_data_changes_updates_its_group():
    wider = roles.Role(
        "Viewer", "", permissions=(*roles.VIEWER.permissions, "audience.view_subscriber")
    )
    roles.ensure_roles((wider,))
    assert "audience.view_subscriber" in perms_of("Viewer")
    roles.ensure_roles()
    assert "audience.view_subscriber" not in perms_of("Viewer")


@pytest.mark.parametrize(
    "codename",
    ["integrations.approve_assignment", "campaigns.view_nothing", "no_dot_here"],
)
def test_a_permission_that_does_not_exist_is_an_error_not_skipped(codename):
    broken = roles.Role("Broken", "", permissions=("integrations.view_integration", codename))
    with pytest.raises(ImproperlyConfigured, match="approve_assignment|view_nothing|no_dot"):
        roles.ensure_roles((broken,))
    assert not Group.objects.filter(name="Broken").exists()  # nothing half-seeded


def test_an_unknown_app_is_an_error():
    broken = roles.Role("Broken", "", app_models=(roles.AppModels("no_such_app"),))
    with pytest.raises(ImproperlyConfigured, match="no_such_app"):
        roles.ensure_roles((broken,))
