from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Assignments, campaigns, A/B tests and metrics (filled by later work)."""

    name = "campaigns"
    verbose_name = "Campaigns"
