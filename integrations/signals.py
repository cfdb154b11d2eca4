"""A deleted integration's schedule goes with it; housekeeping schedules and the roles'
groups after migrate.

Saves are not followed here: the services that change an integration's frequency or enabled
flag update its schedule themselves (see `services/schedules.py`).
"""

from django.db.models.signals import post_delete, post_migrate
from django.dispatch import receiver

from integrations import roles
from integrations.models import Integration
from integrations.services import schedules


@receiver(post_delete, sender=Integration)
def integration_deleted(sender, instance: Integration, **kwargs) -> None:
    schedules.remove_schedule(instance.pk)


def create_housekeeping_schedules(sender, **kwargs) -> None:
    schedules.ensure_housekeeping()


def create_roles(sender, using: str = "default", **kwargs) -> None:
    """The roles' groups (integrations/roles.py), created or brought up to date."""
    roles.ensure_roles(using=using)


def connect_post_migrate(app_config) -> None:
    post_migrate.connect(create_housekeeping_schedules, sender=app_config)
    post_migrate.connect(create_roles, sender=app_config)
