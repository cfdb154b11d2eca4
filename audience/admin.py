"""Admin for SharpSend's subscribers."""

from django.contrib import admin

from audience.models import Subscriber
from integrations.admin import RefusedActionsAdmin


@admin.register(Subscriber)
class SubscriberAdmin(RefusedActionsAdmin):
    list_display = ("email", "first_name", "last_name", "status", "updated_at")
    list_filter = ("status",)
    search_fields = ("email", "first_name", "last_name")
    ordering = ("email",)
    list_per_page = 100
    show_full_result_count = False  # no extra COUNT(*) over a large audience
    # Engagement is written back from the platforms' metrics and webhooks, not by hand.
    readonly_fields = (
        "last_opened_at",
        "last_clicked_at",
        "opens_count",
        "clicks_count",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("email", "first_name", "last_name", "status", "attributes")}),
        (
            "Engagement",
            {
                "fields": (
                    "last_opened_at",
                    "last_clicked_at",
                    "opens_count",
                    "clicks_count",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )
