"""Forms built from what a platform declares: credentials (write-only secrets), region, URL."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html

from integrations.platforms.errors import ConfigurationError

CREDENTIAL_PREFIX = "credential_"
CLEAR_PREFIX = "clear_credential_"


def credential_form_fields(platform) -> dict[str, forms.Field]:
    """One form field per declared credential (+ a clear box for optional secrets)."""
    fields: dict[str, forms.Field] = {}
    for credential in platform.credential_fields:
        name = CREDENTIAL_PREFIX + credential.key
        if credential.secret:
            fields[name] = forms.CharField(
                label=credential.label,
                help_text=credential.help_text,
                required=credential.required,
                strip=True,
                widget=forms.PasswordInput(
                    render_value=False, attrs={"autocomplete": "new-password"}
                ),
            )
            if not credential.required:
                fields[CLEAR_PREFIX + credential.key] = forms.BooleanField(
                    label=f"Clear the {credential.label}", required=False
                )
        else:
            fields[name] = forms.CharField(
                label=credential.label,
                help_text=credential.help_text,
                required=credential.required,
                strip=True,
            )
    return fields


def region_field(platform, current: str = "") -> forms.ChoiceField | None:
    if not platform.regions:
        return None
    return forms.ChoiceField(
        label="Region",
        choices=list(platform.regions.items()),
        initial=current or platform.default_region(),
        help_text=f"Where the {platform.label} account lives.",
    )


def mark_stored_secrets(form: forms.Form, platform, stored: dict) -> None:
    """A secret that is stored need not be typed again: blank keeps it (and says so)."""
    for credential in platform.credential_fields:
        field = form.fields[CREDENTIAL_PREFIX + credential.key]
        if credential.secret:
            has_value = bool(stored.get(credential.key))
            field.required = credential.required and not has_value
            if has_value:
                field.help_text = format_html(
                    "{} <strong>A value is stored; leave blank to keep it.</strong>",
                    credential.help_text,
                )
        else:
            field.initial = stored.get(credential.key, "")


def merged_credentials(platform, cleaned: dict, stored: dict) -> dict[str, str]:
    """The credentials to store: typed values over stored ones; blank secrets are kept."""
    credentials = dict(stored)
    for credential in platform.credential_fields:
        value = (cleaned.get(CREDENTIAL_PREFIX + credential.key) or "").strip()
        if value:
            credentials[credential.key] = value
        elif cleaned.get(CLEAR_PREFIX + credential.key) or not credential.secret:
            credentials.pop(credential.key, None)
    known = {c.key for c in platform.credential_fields}
    # The webhook secrets are kept too (set on the webhook form, or made by the console).
    scheme = platform.webhook_scheme
    known.update(scheme.secret_keys() if scheme is not None else ())
    return {k: v for k, v in credentials.items() if k in known}


def _endpoint(base_url: str, region: str) -> tuple[str, str]:
    return (base_url or "").strip().rstrip("/").lower(), region or ""


def endpoint_moved(old_base_url: str, old_region: str, base_url: str, region: str) -> bool:
    """True when new settings send an integration's requests to another endpoint: its stored
    secrets (here) and its OAuth tokens (`services.setup.drop_moved_token`) stay behind."""
    return _endpoint(base_url, region) != _endpoint(old_base_url, old_region)


def credentials_for(form: forms.Form, platform, cleaned: dict, instance) -> dict[str, str]:
    """The credentials a form stores, under the rule that a stored secret never moves host.

    When the form changes a saved integration's API base URL or region, the secrets stored
    for the old endpoint are dropped: each required one must be typed again (a field error
    says so), so nobody can point a stored key at another host by editing the URL alone.
    """
    stored = instance.secrets if instance is not None and instance.pk else {}
    moved = bool(stored) and endpoint_moved(
        instance.api_base_url,
        instance.region,
        cleaned.get("api_base_url", instance.api_base_url),
        cleaned.get("region", instance.region),
    )
    if moved:
        secret_keys = {c.key for c in platform.credential_fields if c.secret}
        stored = {k: v for k, v in stored.items() if k not in secret_keys}
    credentials = merged_credentials(platform, cleaned, stored)
    if moved:
        for credential in platform.credential_fields:
            if credential.secret and credential.required and not credentials.get(credential.key):
                form.add_error(
                    CREDENTIAL_PREFIX + credential.key,
                    f"The API base URL or region changed: type the {credential.label} again. "
                    "A stored secret is never sent to another host.",
                )
    return credentials


def checked_base_url(platform, url: str) -> str:
    """The API base URL override, or a ValidationError saying which hosts are allowed."""
    url = (url or "").strip()
    if url:
        try:
            platform.check_base_url(url)
        except ConfigurationError as exc:
            raise forms.ValidationError(exc.message) from None
    return url
