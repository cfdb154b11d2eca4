"""Content variations per segment: which content each target sends (campaigns/content.py),
the problems a variation can have (submit and pre-flight), and their freezing at approval."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from campaigns import content
from campaigns.models import CampaignSend, ContentVariation, Experiment, Variant
from campaigns.services import specs, workflow
from campaigns.services.specs import spec_for
from integrations.models import Segment

VARIATION_HTML = "<p>For growth investors</p>"


@pytest.fixture
def segments(make_integration):
    integration = make_integration("campaign_monitor")
    made = {}
    for remote, name in (("list:1", "Growth"), ("list:2", "Income"), ("list:3", "Unused")):
        made[name] = Segment.objects.create(
            integration=integration, remote_id=remote, name=name, imported_at="2026-01-01T00:00Z"
        )
    return integration, made


@pytest.fixture
def assignment(segments, make_assignment, settings):
    settings.CONSOLE_BASE_URL = "https://console.example.com"
    integration, made = segments
    assignment = make_assignment(
        (integration, "list:1", "campaign", ""), (integration, "list:2", "campaign", "")
    )
    ContentVariation.objects.create(
        assignment=assignment,
        segment=made["Growth"],
        subject="Growth: markets this week",
        html=VARIATION_HTML,
    )
    return assignment


def target_of(assignment, name):
    return assignment.targets.get(segment__name=name)


def test_a_target_whose_segment_has_a_variation_sends_it_blank_fields_are_the_assignments(
    assignment,
):
    spec = spec_for(target_of(assignment, "Growth"))
    assert spec.subject == "Growth: markets this week"
    assert spec.html == VARIATION_HTML
    # Left blank in the variation: the assignment's.
    assert (spec.preview_text, spec.plain_text, spec.from_name) == (
        "Three charts",
        "Hello readers",
        "The Desk",
    )
    other = spec_for(target_of(assignment, "Income"))
    assert (other.subject, other.html) == ("Markets this week", "<p>Hello readers</p>")


def test_a_blank_looking_field_falls_back_too(assignment):
    assignment.variations.update(preview_text="   ")
    assert spec_for(target_of(assignment, "Growth")).preview_text == "Three charts"


def test_the_content_url_serves_the_variation(assignment, client):
    target = target_of(assignment, "Growth")
    page = client.get(content.content_url(target, content.HTML).split("example.com", 1)[1])
    assert page.status_code == 200 and page.content.decode() == VARIATION_HTML
    other = target_of(assignment, "Income")
    page = client.get(content.content_url(other, content.HTML).split("example.com", 1)[1])
    assert page.content.decode() == "<p>Hello readers</p>"


def test_an_ab_variant_goes_before_the_variation_field_by_field(assignment):
    target = target_of(assignment, "Growth")
    experiment = Experiment.objects.create(assignment=assignment)
    target.variant = Variant.objects.create(experiment=experiment, label="B", subject="B line")
    target.save()
    found = content.content_of(target)
    assert (found.subject, found.html) == ("B line", VARIATION_HTML)
    assert found.source == "variant B over the variation for Growth"


def test_the_preflight_says_which_content_each_target_sends(assignment):
    described = [specs.describe(t) for t in assignment.targets.order_by("pk")]
    assert described[0].endswith("to Growth (size unknown), sends the variation for Growth")
    assert described[1].endswith("to Income (size unknown), sends the assignment's content")


def test_a_variation_no_target_sends_to_is_refused_on_submit(assignment, segments, author):
    _, made = segments
    ContentVariation.objects.create(assignment=assignment, segment=made["Unused"], subject="X")
    with pytest.raises(workflow.WorkflowError) as refused:
        workflow.submit(assignment, author)
    assert refused.value.message == (
        "Not submitted: Variation for Unused: no target sends to Unused (campaign_monitor test): "
        "add a target for that segment or delete the variation."
    )
    assert specs.variation_problems(assignment)  # the pre-flight lists it too
    assignment.refresh_from_db()
    assert assignment.status == "draft"


def test_a_variation_whose_segment_is_gone_or_that_changes_nothing_is_refused(assignment, segments):
    _, made = segments
    made["Growth"].delete()  # gone on the platform: the re-import deletes it
    empty = ContentVariation.objects.create(assignment=assignment, segment=made["Income"])
    found = {str(v): problems for v, problems in specs.preflight(assignment).items()}
    assert found["Variation for a segment that is gone"] == [
        "its segment is gone (deleted on the platform): choose another or delete it."
    ]
    assert found[str(empty)] == [
        "it changes nothing (every field is blank, so the assignment's content goes out): "
        "fill a field or delete it."
    ]


def test_a_variation_and_an_ab_test_do_not_combine_yet(assignment, author):
    Experiment.objects.create(assignment=assignment)
    with pytest.raises(workflow.WorkflowError, match="A/B tests and content variations do not"):
        workflow.submit(assignment, author)


def test_approval_freezes_the_variation_each_send_carries(assignment, author, approver):
    workflow.submit(assignment, author)
    # The pre-flight asks Campaign Monitor about each segment; here only the freezing counts.
    approved = _approve_without_asking(assignment, approver)
    growth = CampaignSend.objects.get(target__segment__name="Growth")
    income = CampaignSend.objects.get(target__segment__name="Income")
    assert growth.variation == assignment.variations.get()
    assert income.variation is None
    # A variation added for Income after approval does not change what its send carries.
    ContentVariation.objects.create(
        assignment=approved, segment=income.target.segment, subject="Late"
    )
    assert spec_for(income.target, income).subject == "Markets this week"
    assert spec_for(income.target).subject == "Markets this week"  # the content URL's path
    # The segment deleted on the platform after approval: the send keeps its variation.
    growth.target.segment.delete()
    growth.refresh_from_db()
    assert spec_for(growth.target, growth).subject == "Growth: markets this week"


def _approve_without_asking(assignment, approver):
    """Approve with the targets' platform checks left out (they ask Campaign Monitor, and are
    tested with the platform); the variations' own checks still run."""
    from unittest import mock

    with mock.patch.object(specs, "target_problems", return_value=[]):
        return workflow.approve(assignment, approver, queue_send=False)


def test_the_dry_run_prints_the_content_of_each_target(assignment, author, approver, capsys):
    workflow.submit(assignment, author)
    _approve_without_asking(assignment, approver)
    call_command("send_assignment", str(assignment.pk), "--dry-run")
    out = capsys.readouterr().out
    assert "content: the variation for Growth (subject “Growth: markets this week”)" in out
    assert "content: the assignment's content (subject “Markets this week”)" in out


# --- the admin inline ---------------------------------------------------------------------------


def _change_form(assignment, variations: list[dict]) -> dict:
    """The change form's POST as the admin page sends it: the assignment's fields, its targets
    unchanged, and `variations` as new inline rows."""
    data = {
        "title": assignment.title,
        "subject": assignment.subject,
        "preview_text": assignment.preview_text,
        "html": assignment.html,
        "plain_text": assignment.plain_text,
        "from_name": assignment.from_name,
        "reply_to": assignment.reply_to,
        "scheduled_at_0": "",
        "scheduled_at_1": "",
    }
    targets = list(assignment.targets.order_by("pk"))
    data.update({"targets-TOTAL_FORMS": len(targets), "targets-INITIAL_FORMS": len(targets)})
    for i, target in enumerate(targets):
        data.update(
            {
                f"targets-{i}-id": target.pk,
                f"targets-{i}-assignment": assignment.pk,
                f"targets-{i}-integration": target.integration_id,
                f"targets-{i}-segment": target.segment_id,
                f"targets-{i}-method": target.method,
                f"targets-{i}-remote_template_or_campaign_id": "",
            }
        )
    existing = list(assignment.variations.order_by("pk"))
    data.update(
        {
            "variations-TOTAL_FORMS": len(existing) + len(variations),
            "variations-INITIAL_FORMS": len(existing),
        }
    )
    for i, variation in enumerate(existing):
        data[f"variations-{i}-id"] = variation.pk
        data[f"variations-{i}-assignment"] = assignment.pk
        data[f"variations-{i}-segment"] = variation.segment_id
        for name in ContentVariation.FIELDS:
            data[f"variations-{i}-{name}"] = getattr(variation, name)
    for j, row in enumerate(variations, start=len(existing)):
        data[f"variations-{j}-assignment"] = assignment.pk
        for key, value in row.items():
            data[f"variations-{j}-{key}"] = value
    data.update({"events-TOTAL_FORMS": 0, "events-INITIAL_FORMS": 0})
    return data


@pytest.fixture
def editor(db):
    from django.contrib.auth.models import Group, User

    from integrations import roles

    roles.ensure_roles()
    user = User.objects.create_user("editor", password="not-a-real-password", is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    return user


def _change_url(assignment):
    from django.urls import reverse

    return reverse("admin:campaigns_assignment_change", args=[assignment.pk])


def test_an_editor_adds_a_variation_in_the_assignment_page(client, editor, assignment, segments):
    _, made = segments
    client.force_login(editor)
    page = client.get(_change_url(assignment))
    assert "content variations per segment" in page.content.decode().lower()
    row = {"segment": made["Income"].pk, "subject": "Income: markets this week"}
    answer = client.post(_change_url(assignment), _change_form(assignment, [row]))
    assert answer.status_code == 302, answer.content.decode()[:2000]
    income = assignment.variations.get(segment=made["Income"])
    assert income.subject == "Income: markets this week" and income.html == ""
    assert spec_for(target_of(assignment, "Income")).subject == "Income: markets this week"


def test_the_inline_refuses_an_empty_variation_and_a_second_for_one_segment(
    client, editor, assignment, segments
):
    _, made = segments
    client.force_login(editor)
    empty = client.post(
        _change_url(assignment), _change_form(assignment, [{"segment": made["Income"].pk}])
    )
    assert empty.status_code == 200
    assert "A variation overrides at least one field" in empty.content.decode()
    twice = client.post(
        _change_url(assignment),
        _change_form(assignment, [{"segment": made["Growth"].pk, "subject": "Again"}]),
    )
    assert twice.status_code == 200
    assert assignment.variations.count() == 1


def test_once_approved_the_variations_are_read_only(
    client, editor, assignment, segments, author, approver
):
    _, made = segments
    workflow.submit(assignment, author)
    _approve_without_asking(assignment, approver)
    client.force_login(editor)
    page = client.get(_change_url(assignment)).content.decode()
    assert "Growth: markets this week" in page  # shown
    assert "campaign_monitor test → Growth (its variation for Growth): <strong>Pending" in page
    assert 'name="variations-0-subject"' not in page  # not editable
    row = {"segment": made["Income"].pk, "subject": "Sneaked in"}
    client.post(_change_url(assignment), _change_form(assignment, [row]))
    assert list(assignment.variations.values_list("subject", flat=True)) == [
        "Growth: markets this week"
    ]
