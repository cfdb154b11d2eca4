"""Test sends: an assignment as each target would send it, to a few addresses only.

Each target whose platform declares TEST_SEND gets a draft of its own (its own key and a
"[Test]" name, so it is never taken for the real send), filled by the real send's steps and
sent to the testers (integrations/platforms/sending.py `send_test`). The other targets say
why they cannot. Nothing is recorded in the send ledger: a test is not the send.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email

from campaigns.models import Assignment, AssignmentTarget
from campaigns.services.specs import spec_for
from campaigns.services.workflow import CHANGE
from integrations import metering
from integrations.models import ApiFeature
from integrations.platforms.errors import PlatformError, ValidationFailed
from integrations.platforms.sending import MAX_TEST_EMAILS


@dataclass(frozen=True)
class TestSendOutcome:
    __test__ = False  # not a pytest class

    target: AssignmentTarget
    sent: bool
    message: str


def clean_emails(emails) -> list[str]:
    """The testers' addresses, checked: 1 to MAX_TEST_EMAILS valid ones."""
    cleaned = sorted({e.strip().lower() for e in emails if e and e.strip()})
    if not 1 <= len(cleaned) <= MAX_TEST_EMAILS:
        raise ValidationFailed(f"A test goes to 1 to {MAX_TEST_EMAILS} addresses.")
    for email in cleaned:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationFailed(f"'{email}' is not an email address.") from None
    return cleaned


def test_spec(target: AssignmentTarget):
    """The target's spec as a test: the real send's content under a key and name of its own."""
    assignment = target.assignment
    spec = spec_for(target)
    return replace(
        spec,
        idempotency_key=f"test-{assignment.pk}-{secrets.token_hex(4)}",
        name=f"[Test] {spec.name}",
        send_at=None,
    )


@metering.feature(ApiFeature.SENDS)
def send_test(assignment: Assignment, actor, emails) -> list[TestSendOutcome]:
    """Send `assignment` to `emails` through every target that can; one outcome each."""
    if actor is not None and not actor.has_perm(CHANGE):
        raise PermissionDenied("A test send needs the permission to change the assignment.")
    emails = clean_emails(emails)
    outcomes = []
    for target in assignment.targets.select_related("integration", "segment", "assignment"):
        platform = target.integration.platform_class
        reason = platform.test_send_problem(target.method)
        if reason:
            outcomes.append(TestSendOutcome(target, False, reason))
            continue
        try:
            target.integration.client().send_test(test_spec(target), emails)
        except PlatformError as exc:
            outcomes.append(TestSendOutcome(target, False, exc.message))
        else:
            outcomes.append(TestSendOutcome(target, True, f"test sent to {', '.join(emails)}"))
    return outcomes
