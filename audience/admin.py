"""Admin for SharpSend's subscribers."""

from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Value
from django.db.models.functions import Concat
from django.utils.html import format_html, format_html_join

from audience.engagement import COMPUTED_FIELDS
from audience.models import AudienceSegment, Subscriber, normalise_email
from integrations.admin import RefusedActionsAdmin, short_when
from integrations.admin_segment_push import push_runs_url
from integrations.models import Integration
from integrations.platforms.errors import UnsupportedCapability
from integrations.services import queue
from integrations.services.segment_push import NEEDED
from sharpsend.admin_paging import WalkingPaginator
from sharpsend.admin_search import WordByWordSearchMixin


class SubscriberChangeList(ChangeList):
    """A search sorted by email (its column's header) sorts its matches: PostgreSQL would walk
    the email index for them, which for "Tara" reads every email before "tara." (1.5–2 s at
    1M readers). (email || '') keeps it from that index."""

    def get_ordering(self, request, queryset):
        ordering = super().get_ordering(request, queryset)
        if not self.query:
            return ordering
        by_email = Concat("email", Value(""))
        swaps = {"email": by_email.asc(), "-email": by_email.desc()}
        return [swaps.get(o, o) if isinstance(o, str) else o for o in ordering]


@admin.register(Subscriber)
class SubscriberAdmin(WordByWordSearchMixin, RefusedActionsAdmin):
    list_display = ("email", "first_name", "last_name", "status", "updated_at")
    list_filter = ("status",)
    # "^": Django's "starts with" (istartswith), which reads a range of the prefix-search
    # indexes (sharpsend/indexes.py) instead of every row of the audience.
    search_fields = ("^email", "^first_name", "^last_name")
    search_help_text = (
        "Finds readers whose email, first name or last name starts with each word "
        "(not case-sensitive): “tara.rossi”, “Rossi”, “Tara Rossi”; newest first."
    )
    ordering = ("email",)
    list_per_page = 100
    show_full_result_count = False  # no extra COUNT(*) over a large audience
    # A search or filter is counted up to 10,000; past it a page walks the list in its order.
    paginator = WalkingPaginator
    word_by_word_from = 1  # its searches are listed by id (below)

    def get_ordering(self, request):
        if request.GET.get("q"):
            # A search lists its matches newest first: an order that does not follow the
            # searched words. Few matches are read from the prefix indexes and sorted; many are
            # found by walking the id index (PostgreSQL's choice, and WalkingPaginator's past
            # 10,000). In email order, sorting many matches took 140 ms ("Rossi": 51,000), and
            # walking the email index for "Tara" reads every email before "tara.": 3–4 s.
            return ["-id"]
        return super().get_ordering(request)

    def get_changelist(self, request, **kwargs):
        return SubscriberChangeList

    def get_search_results(self, request, queryset, search_term):
        """A whole email address is found by its index at once; anything else is a
        starts-with search of the emails and names."""
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


SEGMENT_SAMPLE_SIZE = 20


@admin.register(AudienceSegment)
class AudienceSegmentAdmin(RefusedActionsAdmin):
    """SharpSend segments: rules, with the live member count and a sample on the change page."""

    list_display = ("name", "slug", "updated_at")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = (
        "member_count",
        "sample_members",
        "pushes_display",
        "created_by",
        "created_at",
        "updated_at",
    )
    fields = (
        "name",
        "slug",
        "description",
        "rules",
        "member_count",
        "sample_members",
        "pushes_display",
        "created_by",
        "created_at",
        "updated_at",
    )

    # --- "Create/update on <integration>": one action a pushable integration ----------------

    def _pushable(self):
        """Enabled integrations whose platform takes pushed segments."""
        return [
            integration
            for integration in Integration.objects.filter(enabled=True).order_by("name")
            if all(integration.platform_class.supports(c) for c in NEEDED)
        ]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if request.user.has_perm("integrations.run_sync"):
            for integration in self._pushable():
                actions[f"{PUSH_PREFIX}{integration.pk}"] = self._push_action(integration)
        return actions

    def get_action(self, action):
        ident = action.removeprefix(PUSH_PREFIX)
        if ident != action and ident.isdigit():
            integration = Integration.objects.filter(pk=int(ident)).first()
            return self._push_action(integration) if integration else None
        return super().get_action(action)

    def _push_action(self, integration: Integration):
        name = f"{PUSH_PREFIX}{integration.pk}"
        return (partial(_push, integration=integration), name, f"Create/update on {integration}")

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

    @admin.display(description="Pushed to")
    def pushes_display(self, obj: AudienceSegment):
        """Each integration the segment is pushed to, its list and a link to its push runs."""
        if obj.pk is None:
            return "—"
        pushes = obj.pushes.select_related("integration").order_by("integration__name")
        rows = [
            (
                push.integration.name,
                f"{push.remote_name or obj.name} ({push.remote_id})" if push.remote_id else "—",
                short_when(push.last_pushed_at) if push.last_pushed_at else "never",
                push_runs_url(segment_push__id__exact=push.pk),
            )
            for push in pushes
        ]
        if not rows:
            return "Not pushed to any integration (the “Create/update on …” actions push it)."
        items = format_html_join(
            "", '<li>{}: list {}, last pushed {} · <a href="{}">push runs</a></li>', rows
        )
        return format_html("<ul>{}</ul>", items)


PUSH_PREFIX = "push_to_"  # + the integration id


def _push(modeladmin, request, queryset, *, integration: Integration):
    """Queue a push of each selected segment to `integration` (thin: services.queue does it)."""
    if not request.user.has_perm("integrations.run_sync"):
        raise PermissionDenied
    for segment in queryset:
        try:
            run, created = queue.enqueue_segment_push(
                segment, integration, actor=request.user, via="admin"
            )
        except (UnsupportedCapability, ValidationError) as exc:
            text = (
                exc.message if isinstance(exc, UnsupportedCapability) else "; ".join(exc.messages)
            )
            modeladmin.message_user(request, f"{segment}: {text}", messages.ERROR)
            continue
        if created:
            modeladmin.message_user(
                request,
                f"{segment}: push to {integration} queued (run #{run.pk}).",
                messages.SUCCESS,
            )
        else:
            modeladmin.message_user(
                request,
                f"{segment}: a push to {integration} is already {run.get_status_display().lower()} "
                f"(run #{run.pk}).",
                messages.WARNING,
            )
