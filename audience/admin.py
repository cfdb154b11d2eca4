"""Admin for SharpSend's subscribers."""

from django.contrib import admin
from django.db.models import Value
from django.db.models.functions import Concat

from audience.engagement import COMPUTED_FIELDS
from audience.models import Subscriber, normalise_email
from integrations.admin import RefusedActionsAdmin


@admin.register(Subscriber)
class SubscriberAdmin(RefusedActionsAdmin):
    list_display = ("email", "first_name", "last_name", "status", "updated_at")
    list_filter = ("status",)
    search_fields = ("email", "first_name", "last_name")
    ordering = ("email",)
    list_per_page = 100
    show_full_result_count = False  # no extra COUNT(*) over a large audience

    def get_ordering(self, request):
        if request.GET.get("q"):
            # A search reads every row anyway: sorting its few matches is faster than walking
            # the email index row by row, which the planner would pick to skip the sort. The
            # expression (email || '') keeps it from picking the index.
            return [Concat("email", Value(""))]
        return super().get_ordering(request)

    def get_search_results(self, request, queryset, search_term):
        """A whole email address is found by its index at once; anything else is searched in
        every email and name (a scan of the audience)."""
        term = normalise_email(search_term)
        if "@" in term.strip("@") and " " not in term:
            exact = queryset.filter(email=term)
            if exact.exists():
                return exact, False
        return super().get_search_results(request, queryset, search_term)

    # Engagement is written back from the platforms' metrics and webhooks, not by hand.
    readonly_fields = (*COMPUTED_FIELDS, "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("email", "first_name", "last_name", "status", "attributes")}),
        (
            "Engagement",
            {
                "fields": (
                    ("engagement_score", "sends_received", "open_rate", "click_rate"),
                    ("opens_count", "clicks_count"),
                    ("last_opened_at", "last_clicked_at", "last_interaction_at"),
                    ("created_at", "updated_at"),
                )
            },
        ),
    )
