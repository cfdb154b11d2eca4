"""Hostile and malformed input to the CSV import, the wizard and the admin: 0 server errors.

Hypothesis draws the input; every example must end in a clear answer (a report, a form error,
a redirect), never an exception or a 500.
"""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audience.importing import ImportFileError, import_subscribers
from audience.models import Subscriber

pytestmark = pytest.mark.django_db

# Derandomized: every run tries the same examples, so a run fails only for a real change.
FUZZ = settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Cells that break CSV and databases: quotes, separators, line breaks, NUL and other controls,
# bad UTF-8, formula prefixes, very long values.
hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(['"', '""', ",", "\n", "\r\n", "\x00", "\x07", '=cmd|" /C calc"!A0', "é"]),
    st.integers(min_value=9_990, max_value=10_010).map(lambda n: "x" * n),
)
cell = st.one_of(hostile_text.map(str.encode), st.binary(max_size=12))
row = st.lists(cell, min_size=0, max_size=5).map(lambda cells: b",".join(cells))


@FUZZ
@given(
    rows=st.lists(row, max_size=25), header=st.sampled_from([b"email,first_name,plan", b"email"])
)
def test_the_csv_import_reports_or_imports_every_row_and_never_fails(rows, header):
    Subscriber.objects.all().delete()
    data = header + b"\n" + b"\n".join(rows) + b"\n"
    try:
        report = import_subscribers(io.BytesIO(data))
    except ImportFileError:
        pytest.fail("a readable header row is never a file error")
    lines = data.count(b"\n") + 1
    assert report.rows == report.created + report.updated + report.unchanged + len(report.errors)
    assert Subscriber.objects.count() == report.created + report.updated + report.unchanged
    assert all(2 <= error.line <= lines for error in report.errors)
    # (Checked here, not in SQL: PostgreSQL refuses a NUL even in a query parameter.)
    for subscriber in Subscriber.objects.all():
        stored = f"{subscriber.email}{subscriber.first_name}{subscriber.attributes}"
        assert "\x00" not in stored


@FUZZ
@given(data=st.binary(max_size=300))
def test_any_bytes_as_a_csv_file_give_a_report_or_a_file_error(data):
    Subscriber.objects.all().delete()
    try:
        import_subscribers(io.BytesIO(data))
    except ImportFileError as exc:
        assert exc.message


form_value = st.one_of(
    hostile_text,
    st.sampled_from(
        ["https://[::1", "http://[zz::1]/", "javascript:alert(1)", "gopher://x", "//evil",
         "https://api.iterable.com:99999", "http://127.0.0.1:0/sandbox/iterable", "\x00"]
    ),
)  # fmt: skip


@FUZZ
@given(name=form_value, base_url=form_value, key=form_value, region=form_value)
def test_the_wizard_credentials_step_answers_hostile_values_without_a_500(
    admin_client, name, base_url, key, region
):
    prefix = "integration_wizard_new"
    admin_client.post(
        reverse("integrations:connect"),
        {f"{prefix}-current_step": "platform", "platform-platform": "iterable"},
    )
    response = admin_client.post(
        reverse("integrations:connect"),
        {
            f"{prefix}-current_step": "credentials",
            "credentials-name": name,
            "credentials-region": region,
            "credentials-api_base_url": base_url,
            "credentials-credential_api_key": key,
        },
    )
    assert response.status_code < 500


@FUZZ
@given(
    step_name=form_value,
    goto=form_value,
)
def test_the_wizard_answers_forged_step_names_without_a_500(admin_client, step_name, goto):
    prefix = "integration_wizard_new"
    response = admin_client.post(
        reverse("integrations:connect"),
        {f"{prefix}-current_step": step_name, "wizard_goto_step": goto},
    )
    assert response.status_code < 500


@FUZZ
@given(name=form_value, base_url=form_value, key=form_value, frequency=form_value)
def test_the_admin_integration_form_answers_hostile_values_without_a_500(
    admin_client, name, base_url, key, frequency
):
    response = admin_client.post(
        reverse("admin:integrations_integration_add") + "?platform=iterable",
        {
            "platform": "iterable",
            "name": name,
            "enabled": "on",
            "sync_frequency": frequency,
            "region": "us",
            "api_base_url": base_url,
            "credential_api_key": key,
            "field_mappings-TOTAL_FORMS": "1",
            "field_mappings-INITIAL_FORMS": "0",
            "field_mappings-0-source": name,
            "field_mappings-0-target": key,
            "field_mappings-0-is_identifier": "on",
        },
    )
    assert response.status_code < 500
