"""The setup wizard: one engine for every platform, fed by what the registry declares.

Steps: platform → credentials → connection test → field mapping → sync settings. Nothing is
stored until the last step, which makes one atomic service call. The same engine edits an
integration (it starts at the credentials; stored secrets are never shown back).
"""

from __future__ import annotations

import time
from functools import cached_property

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from formtools.wizard.views import SessionWizardView

from integrations import selectors
from integrations.forms import CREDENTIAL_PREFIX, endpoint_moved
from integrations.models import Integration, SyncMode, SyncTrigger
from integrations.platforms.errors import PlatformError
from integrations.platforms.registry import all_platforms, get_platform
from integrations.platforms.types import AuthMethod, Capability, ConnectionReport
from integrations.sandbox import registry as sandbox_registry
from integrations.services import connection, preview, queue, setup
from integrations.services.mapping import MappingError
from integrations.views import oauth as oauth_views
from integrations.views.wizard_forms import (
    ConnectionCheckForm,
    CredentialsForm,
    MappingFormSet,
    PlatformForm,
    SyncSettingsForm,
)

REPORT_MAX_AGE = 600  # a connection test older than this is run again before saving
_STEP_TITLES = {
    "platform": "Platform",
    "credentials": "Credentials",
    "test": "Test connection",
    "mapping": "Field mapping",
    "settings": "Sync settings",
}


def _not_editing(wizard) -> bool:
    return wizard.instance is None


class IntegrationWizard(LoginRequiredMixin, UserPassesTestMixin, SessionWizardView):
    form_list = [
        ("platform", PlatformForm),
        ("credentials", CredentialsForm),
        ("test", ConnectionCheckForm),
        ("mapping", MappingFormSet),
        ("settings", SyncSettingsForm),
    ]
    condition_dict = {"platform": _not_editing}
    storage_name = "integrations.views.storage.EncryptedSessionStorage"
    template_name = "integrations/wizard.html"
    login_url = "admin:login"

    # --- access ---------------------------------------------------------------------------

    def dispatch(self, request, *args, pk=None, **kwargs):
        self.instance = get_object_or_404(Integration, pk=pk) if pk else None
        return super().dispatch(request, *args, **kwargs)

    def test_func(self) -> bool:
        user = self.request.user
        needed = "change_integration" if self.instance else "add_integration"
        return user.is_staff and user.has_perm(f"integrations.{needed}")

    def get_prefix(self, request, *args, **kwargs):
        # One wizard in progress per integration being edited, and one for a new one.
        suffix = f"edit_{self.instance.pk}" if self.instance else "new"
        return f"integration_wizard_{suffix}"

    # --- what the steps so far say ----------------------------------------------------------

    @cached_property
    def sources(self):
        """SharpSend's fields and custom attribute keys (one scan of the audience a request)."""
        return preview.source_fields()

    def platform(self):
        if self.instance is not None:
            return get_platform(self.instance.platform)
        data = self.get_cleaned_data_for_step("platform") or {}
        return get_platform(data["platform"]) if data.get("platform") else None

    def draft(self) -> setup.Draft | None:
        platform = self.platform()
        credentials = self.get_cleaned_data_for_step("credentials") if platform else None
        if not credentials:
            return None
        region = credentials.get("region", "")
        api_base_url = credentials.get("api_base_url", "")
        token = oauth_views.wizard_token(self.request, self.prefix)
        endpoint = self.token_endpoint()
        if token and endpoint and endpoint_moved(*endpoint, api_base_url, region):
            token = None  # issued for another endpoint: never sent to this one
        return setup.Draft(
            platform=platform.slug,
            name=credentials["name"],
            region=region,
            api_base_url=api_base_url,
            credentials=credentials["credentials"],
            oauth_token=token,
        )

    def oauth_connected(self) -> bool:
        return bool(oauth_views.wizard_token(self.request, self.prefix)) or self.token_stored()

    def token_stored(self) -> bool:
        """The integration being edited has an OAuth connection (kept while its endpoint is)."""
        return self.instance is not None and selectors.token_health(self.instance) is not None

    def token_endpoint(self) -> tuple[str, str] | None:
        """(API base URL, region) the OAuth token in use was issued for; None: no token, or a
        token from before endpoints were recorded."""
        held = oauth_views.wizard_token(self.request, self.prefix)
        if held:
            return tuple(held["for_endpoint"]) if held.get("for_endpoint") else None
        if self.token_stored():
            return self.instance.api_base_url, self.instance.region
        return None

    def _keep_token(self, integration) -> None:
        """A token refreshed while the wizard used it replaces the one it holds (rotation)."""
        source = integration.token_source
        pending = source.connection if source is not None else None
        held = oauth_views.wizard_token(self.request, self.prefix)
        if pending is not None and held and pending.access_token != held.get("access_token"):
            held.update(
                access_token=pending.access_token,
                refresh_token=pending.refresh_token,
                expires_at=pending.expires_at.timestamp() if pending.expires_at else None,
            )
            held.pop("expires_in", None)
            oauth_views.store_wizard_token(self.request, self.prefix, held)

    def connection_report(self, draft: setup.Draft) -> ConnectionReport:
        """The test of these settings: run once, reused while fresh (never shows secrets)."""
        fingerprint = setup.connection_fingerprint(draft)
        cached = self.storage.extra_data.get("report")
        if cached and cached["fingerprint"] == fingerprint:
            if time.time() - cached["at"] < REPORT_MAX_AGE:
                return ConnectionReport(**cached["report"])
        integration = draft.integration(self.instance)
        report = connection.judge_connection(integration)
        self._keep_token(integration)
        extra = self.storage.extra_data
        extra["report"] = {
            "fingerprint": fingerprint,
            "at": time.time(),
            "report": report.as_dict(),
        }
        self.storage.extra_data = extra
        return report

    def targets(self, draft: setup.Draft, refresh: bool = False):
        integration = draft.integration(self.instance)
        fields = preview.target_fields(integration, setup.connection_fingerprint(draft), refresh)
        self._keep_token(integration)
        return fields

    # --- forms ------------------------------------------------------------------------------

    def get_form_kwargs(self, step=None):
        if step == "credentials":
            return {
                "platform": self.platform(),
                "instance": self.instance,
                "oauth_connected": self.oauth_connected(),
                "token_endpoint": self.token_endpoint(),
                "connecting": getattr(self, "connecting", False),
            }
        if step == "test":
            return {"report_for": lambda: self._report_if_possible()}
        if step == "mapping":
            draft = self.draft()
            platform = self.platform()
            targets = self._targets_if_possible(draft)
            return {
                "platform": platform,
                "targets": targets,
                "form_kwargs": {
                    "sources": self.sources,
                    "targets": targets,
                    "strict_targets": not platform.accepts_new_fields,
                },
            }
        return {}

    def _report_if_possible(self):
        draft = self.draft()
        return self.connection_report(draft) if draft else None

    def _targets_if_possible(self, draft, refresh: bool = False):
        if draft is None:
            return None
        try:
            return self.targets(draft, refresh)
        except PlatformError:
            return None

    def get_form_initial(self, step):
        instance = self.instance
        if step == "credentials" and instance is not None:
            return {
                "name": instance.name,
                "region": instance.region,
                "api_base_url": instance.api_base_url,
            }
        if step == "credentials":
            platform = self.platform()
            return {"name": f"{platform.label}" if platform else ""}
        if step == "mapping":
            stored = selectors.field_mappings(instance) if instance is not None else None
            if stored is not None and stored.exists():
                return list(stored.values("source", "target", "transform", "is_identifier"))
            draft = self.draft()
            return preview.suggest_mappings(
                self.platform(), self.sources, self._targets_if_possible(draft)
            )
        if step == "settings" and instance is not None:
            return {
                "sync_frequency": instance.sync_frequency,
                "existing_contacts": "update" if instance.update_existing else "keep",
            }
        return {}

    # --- pages ------------------------------------------------------------------------------

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        context.update(admin.site.each_context(self.request))
        context["instance"] = self.instance
        context["title"] = f"Edit {self.instance.name}" if self.instance else "Connect a platform"
        step = self.steps.current
        platform = self.platform() if step != "platform" else None
        context["platform"] = platform
        context["step_titles"] = [
            (name, title, name == step)
            for name, title in _STEP_TITLES.items()
            if name in self.get_form_list()
        ]
        if step == "platform":
            context["platforms"] = [_platform_card(p) for p in all_platforms()]
        if step == "test":
            report = self._report_if_possible()
            context["report"] = report
            context["matrix"] = _capability_matrix(platform, report)
        if step == "mapping":
            context.update(self._mapping_context(form))
        if step == "settings":
            context["keeps_existing_natively"] = platform.keeps_existing_natively
        if step == "credentials":
            context["oauth_offered"] = AuthMethod.OAUTH in platform.auth_methods
            context["oauth_connected"] = self.oauth_connected()
            if settings.SANDBOX_ENABLED and sandbox_registry.emulated(platform.slug):
                context["sandbox"] = {
                    "values_url": reverse("sandbox-wizard-values", args=[platform.slug]),
                    "index_url": reverse("sandbox-index"),
                    "credential_prefix": CREDENTIAL_PREFIX,
                }
        return context

    def _mapping_context(self, formset) -> dict:
        draft = self.draft()
        targets = formset.targets
        context = {"targets": targets, "forecast": None, "forecast_error": ""}
        if formset.is_bound and not formset.is_valid():
            return context
        rows = formset.mappings() if formset.is_bound else list(formset.initial or [])
        mappings = setup.Draft(platform=draft.platform, name=draft.name, mappings=rows)
        try:
            context["forecast"] = preview.forecast(
                draft.integration(self.instance), mappings.mapping_objects(), targets
            )
        except MappingError as exc:
            context["forecast_error"] = str(exc)
        return context

    # --- steps asked for out of order ------------------------------------------------------

    def first_step_not_done(self, wanted: str) -> str | None:
        """The earliest step before `wanted` whose data is missing or no longer valid."""
        steps = list(self.get_form_list())
        for step in steps[: steps.index(wanted)]:
            if self.get_cleaned_data_for_step(step) is None:
                return step
        return None

    def _astray(self):
        """A redirect to the right step when this POST names an unknown step, or a step whose
        earlier steps are not done (formtools would build that form without them: a 500)."""
        steps = list(self.get_form_list())
        goto = self.request.POST.get("wizard_goto_step")
        if goto in steps:
            wanted = goto
        elif self.storage.current_step is None:
            return None  # formtools starts afresh at the first step whatever was posted
        else:
            wanted = self.request.POST.get(f"{self.prefix}-current_step", self.steps.current)
        if wanted not in steps:
            messages.error(self.request, "That wizard step does not exist; carry on from here.")
            return redirect(f"{self.request.path}?resume=1")
        missing = self.first_step_not_done(wanted)
        if missing is None:
            return None
        self.storage.current_step = missing
        messages.error(self.request, f"Complete the {_STEP_TITLES[missing]} step first.")
        return redirect(f"{self.request.path}?resume=1")

    def get(self, request, *args, **kwargs):
        # Back from the platform's consent screen, or sent to the right step: carry on where the
        # wizard was (a plain GET starts formtools' wizard afresh).
        if request.GET.get("resume") and self.storage.current_step in self.get_form_list():
            missing = self.first_step_not_done(self.storage.current_step)
            if missing is not None:
                self.storage.current_step = missing
            return self.render(self.get_form(data=self.storage.current_step_data))
        return super().get(request, *args, **kwargs)

    def post(self, *args, **kwargs):
        astray = self._astray()
        if astray is not None:
            return astray
        if self.steps.current == "credentials" and "oauth_connect" in self.request.POST:
            return self._connect_with_oauth()
        if self.steps.current == "test" and self.request.POST.get("wizard_goto_step") == "test":
            extra = self.storage.extra_data
            extra.pop("report", None)  # "Test again": ask the platform anew
            self.storage.extra_data = extra
        # "Refresh fields" and "Update preview" redraw the mapping step with what was posted.
        if self.steps.current == "mapping" and (
            "refresh_fields" in self.request.POST or "update_preview" in self.request.POST
        ):
            if "refresh_fields" in self.request.POST:
                self._targets_if_possible(self.draft(), refresh=True)
            form = self.get_form(data=self.request.POST)
            form.is_valid()
            return self.render(form)
        return super().post(*args, **kwargs)

    def _connect_with_oauth(self):
        """Keep what the credentials step says so far, then go to the platform's consent."""
        self.connecting = True  # the settings around OAuth are checked, not the connection
        form = self.get_form(data=self.request.POST)
        if not form.is_valid():
            return self.render(form)
        self.storage.set_step_data(self.steps.current, self.process_step(form))
        oauth_views.forget_wizard_token(self.request, self.prefix)
        draft = self.draft()
        try:
            return oauth_views.begin(
                self.request,
                draft.integration(self.instance),
                return_to=f"{self.request.path}?resume=1",
                wizard_prefix=self.prefix,
            )
        except PlatformError as exc:
            form.add_error(None, exc.message)
            return self.render(form)

    def done(self, form_list, form_dict, **kwargs):
        draft = self.draft()
        mapping_form = form_dict["mapping"]
        settings_data = form_dict["settings"].cleaned_data
        draft.mappings = mapping_form.mappings()
        draft.sync_frequency = settings_data["sync_frequency"]
        draft.update_existing = settings_data["existing_contacts"] == "update"
        report = self.connection_report(draft)
        if not report.ok:  # e.g. a key revoked since the test
            messages.error(self.request, "The connection test no longer passes: test again.")
            return self.render_goto_step("test")
        integration = setup.save_integration(
            draft, self.instance, report=report, actor=self.request.user
        )
        oauth_views.forget_wizard_token(self.request, self.prefix)
        verb = "saved" if self.instance else "connected"
        if self.request.POST.get("action") == "save_sync":
            if not self.request.user.has_perm("integrations.run_sync"):
                raise PermissionDenied("You may not run syncs.")
            run, created = queue.enqueue_sync(
                integration,
                SyncTrigger.WIZARD,
                SyncMode.CHANGED,
                actor=self.request.user,
                via="wizard",
            )
            messages.success(self.request, f"{integration.name} {verb}; sync #{run.pk} queued.")
            return redirect(reverse("integrations:run", args=[run.pk]))
        messages.success(self.request, f"{integration.name} {verb}.")
        return redirect(reverse("integrations:integration", args=[integration.pk]))


def _platform_card(platform) -> dict:
    return {
        "slug": platform.slug,
        "label": platform.label,
        "category": platform.category.value,
        "summary": platform.summary,
        "supports": [c.label for c in Capability if platform.supports(c)],
        "oauth": AuthMethod.OAUTH in platform.auth_methods,
        "api_key": AuthMethod.API_KEY in platform.auth_methods,
    }


def _capability_matrix(platform, report: ConnectionReport | None) -> list[dict]:
    """Per capability: offered by the platform? permitted by this key?"""
    rows = []
    for capability in Capability:
        offered = platform.supports(capability)
        permitted = None
        if offered and report is not None:
            permitted = report.permissions.get(capability.value)
            if capability is Capability.TEST_CONNECTION:
                permitted = report.ok
        rows.append(
            {
                "label": capability.label,
                "offered": offered,
                "permitted": permitted,
                "why_not": platform.unsupported_reasons.get(capability, ""),
            }
        )
    return [r for r in rows if r["offered"] or r["why_not"]]
