from django.apps import AppConfig


class AudienceConfig(AppConfig):
    """SharpSend's own subscribers: the source of every outbound sync."""

    name = "audience"
    verbose_name = "Audience"
