"""The console's roles as data, seeded as Django groups after every migrate.

A role is a group name and the permissions it grants, named "app_label.codename". A role may
also take the view/add/change permissions of every model of an app (`AppModels`), so that the
Editor follows the campaigns app as its models arrive. `ensure_roles` creates each group once
and sets its permissions to exactly what is declared here (a permission taken out of a role
is taken from the group too); a permission that does not exist is an error, never skipped.

Give a user a role by adding them to the group (admin → Users → Groups) and ticking "Staff
status" so that they can sign in to the console.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction


@dataclass(frozen=True)
class AppModels:
    """These actions on every model of an app, as that app has them when the roles are seeded."""

    app_label: str
    actions: tuple[str, ...] = ("view", "add", "change")

    def codenames(self) -> list[str]:
        try:
            config = apps.get_app_config(self.app_label)
        except LookupError:
            raise ImproperlyConfigured(f"Roles: there is no app '{self.app_label}'.") from None
        return [
            f"{self.app_label}.{action}_{model._meta.model_name}"
            for model in config.get_models()
            for action in self.actions
            if action in model._meta.default_permissions
        ]


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    permissions: tuple[str, ...] = ()
    app_models: tuple[AppModels, ...] = ()
    includes: tuple[Role, ...] = field(default=())

    def codenames(self) -> list[str]:
        """Every "app_label.codename" this role grants, its included roles' first."""
        names: list[str] = []
        for role in self.includes:
            names += role.codenames()
        names += self.permissions
        for group in self.app_models:
            names += group.codenames()
        return list(dict.fromkeys(names))


VIEWER = Role(
    "Viewer",
    "Reads integrations, sync runs and their records, segments, API usage and the dashboards.",
    permissions=(
        "integrations.view_integration",
        "integrations.view_fieldmapping",
        "integrations.view_syncrun",
        "integrations.view_syncrecord",
        "integrations.view_segment",
        "integrations.view_apicall",
        "integrations.view_segmentpush",
        "integrations.view_webhookevent",
    ),
)
OPERATOR = Role(
    "Operator",
    "A Viewer who also runs syncs and dry runs, tests connections, imports segments, "
    "retries failed records and replays failed webhook events.",
    permissions=("integrations.run_sync", "integrations.replay_webhookevent"),
    includes=(VIEWER,),
)
EDITOR = Role(
    "Editor",
    "Prepares assignments: views, adds and changes what the campaigns app holds.",
    # The campaigns issue adds the assignment models; their view/add/change come with them.
    app_models=(AppModels("campaigns"),),
)
APPROVER = Role(
    "Approver",
    "Approves sends: sees what an Editor prepares and approves it (the sends go out). "
    "Not their own assignments unless ALLOW_SELF_APPROVAL is set.",
    permissions=("campaigns.approve_assignment",),
    app_models=(AppModels("campaigns", actions=("view",)),),
)
PRIVACY_OFFICER = Role(
    "Privacy officer",
    "Handles privacy requests about subscribers.",
    permissions=(
        "audience.view_subscriber",
        "integrations.view_integration",
        "integrations.view_privacyrequest",
        "integrations.view_privacytask",
        "integrations.add_privacyrequest",
        "integrations.handle_privacyrequest",
    ),
)
ADMIN = Role(
    "Admin",
    "Everything on integrations: adds, changes and deletes them and their credentials, "
    "runs them, imports their profiles into the audience, handles privacy requests, and "
    "reads the audit log.",
    # Importing profiles writes SharpSend's audience, which an Operator cannot edit.
    permissions=(
        "integrations.view_auditentry",
        "campaigns.approve_assignment",
        "integrations.import_profiles",
    ),
    app_models=(
        AppModels("integrations", actions=("view", "add", "change", "delete")),
        AppModels("audience", actions=("view", "add", "change", "delete")),
        AppModels("campaigns", actions=("view", "add", "change", "delete")),
    ),
    includes=(OPERATOR, PRIVACY_OFFICER),
)

ROLES: tuple[Role, ...] = (VIEWER, OPERATOR, EDITOR, APPROVER, PRIVACY_OFFICER, ADMIN)


def resolve(codenames: list[str], using: str = "default"):
    """The Permission rows for "app_label.codename" names; ImproperlyConfigured naming any
    that do not exist."""
    from django.contrib.auth.models import Permission

    wanted = set()
    for name in codenames:
        app_label, _, codename = name.partition(".")
        if not app_label or not codename:
            raise ImproperlyConfigured(f"Roles: '{name}' is not 'app_label.codename'.")
        wanted.add((app_label, codename))
    found = {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.using(using)
        .select_related("content_type")
        .filter(codename__in={codename for _, codename in wanted})
    }
    missing = sorted(f"{a}.{c}" for a, c in wanted - set(found))
    if missing:
        raise ImproperlyConfigured(
            f"Roles name permissions that do not exist: {', '.join(missing)}. Fix "
            "integrations/roles.py or add the model or permission."
        )
    return [found[key] for key in sorted(wanted)]


def _create_all_permissions(using: str) -> None:
    """Every app's model permissions exist before the groups are seeded (migrate creates an
    app's permissions only when it reaches that app)."""
    from django.contrib.auth.management import create_permissions

    for config in apps.get_app_configs():
        create_permissions(config, verbosity=0, using=using)


def ensure_roles(roles: tuple[Role, ...] = ROLES, using: str = "default") -> dict[str, int]:
    """Create the roles' groups if missing and set each one's permissions to the declared
    ones, all or nothing. Returns {group name: number of permissions}."""
    from django.contrib.auth.models import Group

    with transaction.atomic(using=using):
        _create_all_permissions(using)
        result = {}
        for role in roles:
            permissions = resolve(role.codenames(), using)
            group, _ = Group.objects.using(using).get_or_create(name=role.name)
            group.permissions.set(permissions)
            result[role.name] = len(permissions)
    return result
