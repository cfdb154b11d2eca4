from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from integrations.models import Segment
from integrations.sandbox.registry import seed


def run_command(*args):
    out = StringIO()
    call_command("import_segments", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_imports_segments_with_counts(make_integration, sandbox_url):
    seed("customerio")
    integration = make_integration("customerio", name="CIO", base_url=f"{sandbox_url}/customerio")
    out = run_command("CIO")
    assert "CIO: 3 segments imported, 0 removed, 3 counted." in out
    segments = list(Segment.objects.filter(integration=integration).order_by("name"))
    assert [s.name for s in segments] == ["All readers", "Dividend Income", "Growth Investors"]
    for segment in segments:
        assert segment.member_count is not None
        line = f"  {segment.name} [{segment.kind}] (id {segment.remote_id}): "
        assert f"{line}{segment.member_count} members" in out
    assert "pending" not in out


@pytest.mark.django_db(transaction=True)
def test_counts_left_pending_by_the_rate_limit_are_reported(
    make_integration, sandbox_url, fake_clock
):
    # Iterable allows 5 list counts a minute (one every 12 s); a 20 s budget counts two of three.
    seed("iterable")
    make_integration("iterable", name="Iterable", base_url=f"{sandbox_url}/iterable")
    out = run_command("Iterable")
    assert "3 segments imported, 0 removed, 2 counted." in out
    assert out.count("count pending") == 1
    assert "1 member counts are pending: the platform's rate limit allows the next count in" in out
    assert Segment.objects.filter(member_count__isnull=True).count() == 1
    assert sum(fake_clock.sleeps) <= 20  # waited within the budget, without real sleeps


@pytest.mark.django_db(transaction=True)
def test_refused_credentials_are_an_error(make_integration, sandbox_url):
    seed("customerio")
    make_integration(
        "customerio",
        name="CIO bad",
        base_url=f"{sandbox_url}/customerio",
        credentials={
            "site_id": "sandbox-site-us",
            "track_api_key": "wrong",
            "app_api_key": "wrong",
        },
    )
    with pytest.raises(CommandError, match="CIO bad: Customer.io answered 401"):
        run_command("CIO bad")
    assert not Segment.objects.exists()
