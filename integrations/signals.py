"""Keep each integration's django-q2 schedule in step with it."""

from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from integrations.models import Integration
from integrations.services import schedules


@receiver(post_save, sender=Integration)
def integration_saved(sender, instance: Integration, **kwargs) -> None:
    schedules.sync_schedule(instance)


@receiver(post_delete, sender=Integration)
def integration_deleted(sender, instance: Integration, **kwargs) -> None:
    schedules.remove_schedule(instance.pk)


def create_housekeeping_schedules(sender, **kwargs) -> None:
    schedules.ensure_housekeeping()


def connect_post_migrate(app_config) -> None:
    post_migrate.connect(create_housekeeping_schedules, sender=app_config)
