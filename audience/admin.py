"""Admin for SharpSend's subscribers."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Value
from django.db.models.functions import Concat
from django.utils.html import format_html, format_html_join

from audience.models import AudienceSegment, Subscriber, normalise_email
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


SEGMENT_SAMPLE_SIZE = 20


@admin.register(AudienceSegment)
class AudienceSegmentAdmin(RefusedActionsAdmin):
    """SharpSend segments: rules, with the live member count and a sample on the change page."""

    list_display = ("name", "slug", "updated_at")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("member_count", "sample_members", "created_by", "created_at", "updated_at")
    fields = (
        "name",
        "slug",
        "description",
        "rules",
        "member_count",
        "sample_members",
        "created_by",
        "created_at",
        "updated_at",
    )

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Members now")
    def member_count(self, obj: AudienceSegment) -> str:
        if obj.pk is None:
            return "Save the segment to count its members."
        try:
            return f"{obj.members().count():,}"
        except ValidationError as exc:
            return "; ".join(exc.messages)

    @admin.display(description=f"Sample (first {SEGMENT_SAMPLE_SIZE} by email)")
    def sample_members(self, obj: AudienceSegment) -> str:
        if obj.pk is None:
            return ""
        try:
            sample = list(
                obj.members().order_by("email").values_list("email", "status")[:SEGMENT_SAMPLE_SIZE]
            )
        except ValidationError as exc:
            return "; ".join(exc.messages)
        if not sample:
            return "No subscriber matches these rules."
        rows = format_html_join("", "<li>{} ({})</li>", sample)
        return format_html("<ul>{}</ul>", rows)
