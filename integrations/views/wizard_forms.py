"""The setup wizard's steps, each built from what the chosen platform declares."""

from __future__ import annotations

from django import forms
from django.forms import BaseFormSet, formset_factory

from integrations.forms import (
    checked_base_url,
    credential_form_fields,
    credentials_for,
    endpoint_moved,
    mark_stored_secrets,
    region_field,
)
from integrations.models import FieldMapping, Integration, SyncFrequency, Transform
from integrations.platforms.registry import all_platforms
from integrations.platforms.types import AuthMethod
from integrations.services.mapping import check_mappings


class PlatformForm(forms.Form):
    platform = forms.ChoiceField(widget=forms.RadioSelect, label="Platform")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = [(p.slug, p.label) for p in all_platforms()]


class CredentialsForm(forms.Form):
    """Name, region, optional API base URL and the platform's own credential fields."""

    name = forms.CharField(max_length=120, help_text="How the console calls this connection.")
    api_base_url = forms.CharField(
        label="API base URL override",
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="Leave blank for the platform's own API. A region or instance host the "
        "platform publishes (https), or the built-in sandbox.",
    )

    def __init__(
        self,
        *args,
        platform,
        instance: Integration | None = None,
        oauth_connected: bool = False,
        token_endpoint: tuple[str, str] | None = None,
        connecting: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.platform = platform
        self.instance = instance
        # OAuth: connected already (a token from the consent screen, or a stored connection),
        # or asking to connect now (then only the settings around it are checked).
        self.oauth_connected = oauth_connected
        # (API base URL, region) the OAuth token was issued for: it never goes to another one.
        self.token_endpoint = token_endpoint
        self.connecting = connecting
        self.stored = instance.secrets if instance else {}
        region = region_field(platform, instance.region if instance else "")
        if region is not None:
            self.fields["region"] = region
        self.fields.update(credential_form_fields(platform))
        mark_stored_secrets(self, platform, self.stored)
        # Stored secrets are never sent back to the page, not even as a placeholder.
        self.order_fields(["name", "region"])

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        others = Integration.objects.filter(name=name)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("Another integration already has this name.")
        return name

    def clean_api_base_url(self):
        return checked_base_url(self.platform, self.cleaned_data.get("api_base_url", ""))

    def clean(self):
        cleaned = super().clean()
        cleaned["credentials"] = credentials_for(self, self.platform, cleaned, self.instance)
        if self.connecting or self.errors:
            return cleaned
        missing = [
            c.label
            for c in self.platform.credential_fields
            if c.required and not cleaned["credentials"].get(c.key)
        ]
        if missing:
            raise forms.ValidationError(f"Missing: {', '.join(missing)}.")
        methods = self.platform.auth_methods
        connected = self.oauth_connected
        if connected and self._moves_token(cleaned):
            connected = False
            if AuthMethod.API_KEY not in methods:
                raise forms.ValidationError(
                    f"The API base URL or region changed: connect with {self.platform.label} "
                    "again. A stored token is never sent to another host."
                )
        if AuthMethod.OAUTH in methods and not connected:
            secrets_given = any(
                cleaned["credentials"].get(c.key)
                for c in self.platform.credential_fields
                if c.secret
            )
            if AuthMethod.API_KEY not in methods or not secrets_given:
                how = "" if AuthMethod.API_KEY not in methods else "Enter the API key, or "
                raise forms.ValidationError(
                    f"{how}{'c' if how else 'C'}onnect with {self.platform.label} first."
                )
        return cleaned

    def _moves_token(self, cleaned: dict) -> bool:
        if self.token_endpoint is None:
            return False
        base_url, region = self.token_endpoint
        return endpoint_moved(
            base_url, region, cleaned.get("api_base_url", ""), cleaned.get("region", region)
        )


class ConnectionCheckForm(forms.Form):
    """No fields: valid only when the connection test of the settings so far passed."""

    def __init__(self, *args, report_for=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.report_for = report_for

    def clean(self):
        report = self.report_for() if self.report_for else None
        if report is None or not report.ok:
            detail = report.detail if report else "The connection was not tested."
            raise forms.ValidationError(detail)
        self.report = report
        return super().clean()


class MappingRowForm(forms.Form):
    source = forms.ChoiceField(required=False, label="SharpSend field")
    target = forms.CharField(required=False, max_length=150, label="Platform field")
    transform = forms.ChoiceField(choices=Transform.choices, required=False)
    is_identifier = forms.BooleanField(required=False, label="Identifier")

    def __init__(self, *args, sources=(), targets=None, strict_targets=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "—")] + [
            (s.key, f"{s.label} (e.g. {s.sample})" if s.sample not in (None, "") else s.label)
            for s in sources
        ]
        if targets is not None and strict_targets:
            self.fields["target"] = forms.ChoiceField(
                required=False,
                label="Platform field",
                choices=[("", "—")]
                + [(t.key, f"{t.label}{' *' if t.required else ''} ({t.type})") for t in targets],
            )
        else:
            self.fields["target"].widget.attrs["list"] = "target-fields"

    def has_changed(self) -> bool:
        # A suggested row posted unchanged is still a mapping, not an empty extra row.
        filled = self.data.get(self.add_prefix("source")) or self.data.get(
            self.add_prefix("target")
        )
        return bool(filled) or super().has_changed()


class BaseMappingFormSet(BaseFormSet):
    """Rows of source → target; checked together against the platform's fields."""

    def __init__(self, *args, platform=None, targets=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.platform = platform
        self.targets = targets

    def mappings(self) -> list[dict]:
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("source") or data.get("target"):
                rows.append(
                    {
                        "source": data.get("source", ""),
                        "target": (data.get("target") or "").strip(),
                        "transform": data.get("transform") or "",
                        "is_identifier": bool(data.get("is_identifier")),
                    }
                )
        return rows

    def clean(self):
        if any(self.errors):
            return
        rows = self.mappings()
        problems = []
        for row in rows:
            if not row["source"] or not row["target"]:
                problems.append("Each row needs both a SharpSend field and a platform field.")
                break
        targets = [r["target"] for r in rows]
        duplicates = sorted({t for t in targets if targets.count(t) > 1})
        if duplicates:
            problems.append(f"Each platform field can be mapped once: {', '.join(duplicates)}.")
        objects = [
            FieldMapping(
                source=r["source"],
                target=r["target"],
                transform=r["transform"],
                is_identifier=r["is_identifier"],
            )
            for r in rows
        ]
        problems += check_mappings(objects, self.platform, self.targets)
        if problems:
            raise forms.ValidationError(problems)


MappingFormSet = formset_factory(MappingRowForm, formset=BaseMappingFormSet, extra=2)


class SyncSettingsForm(forms.Form):
    sync_frequency = forms.ChoiceField(
        choices=SyncFrequency.choices,
        widget=forms.RadioSelect,
        initial=SyncFrequency.HOURLY,
        label="Sync",
    )
    existing_contacts = forms.ChoiceField(
        choices=[
            ("update", "Update contacts that already exist on the platform"),
            ("keep", "Keep existing contacts as they are; only add new ones"),
        ],
        widget=forms.RadioSelect,
        initial="update",
        label="Existing contacts",
    )
