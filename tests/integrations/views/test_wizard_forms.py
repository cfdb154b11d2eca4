"""The wizard's credentials form: a stored secret never follows an endpoint change."""

import pytest

from integrations.platforms.registry import get_platform
from integrations.views.wizard_forms import CredentialsForm

pytestmark = pytest.mark.django_db


def form_for(integration, **data):
    fields = {"name": integration.name, "region": integration.region, "api_base_url": ""}
    fields.update(data)
    return CredentialsForm(
        data=fields, platform=get_platform(integration.platform), instance=integration
    )


def test_a_blank_key_is_kept_while_the_endpoint_stays(make_integration):
    iterable = make_integration("iterable", credentials={"api_key": "stored-fake-key"})
    form = form_for(iterable, credential_api_key="")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["credentials"] == {"api_key": "stored-fake-key"}


@pytest.mark.parametrize(
    "moved", [{"region": "eu"}, {"api_base_url": "https://api.eu.iterable.com"}]
)
def test_a_new_region_or_base_url_needs_the_key_again(make_integration, moved):
    iterable = make_integration("iterable", region="us", credentials={"api_key": "stored-key"})
    form = form_for(iterable, credential_api_key="", **moved)
    assert not form.is_valid()
    assert "type the API key again" in form.errors["credential_api_key"][0]
    form = form_for(iterable, credential_api_key="typed-eu-key", **moved)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["credentials"] == {"api_key": "typed-eu-key"}
