"""Scheduled sends taken back on Mailchimp, SendGrid and Iterable against strict `responses`
mocks shaped like their references (mailchimp.md §7 `actions/unschedule`; SendGrid's
tsg_mc_singlesends_v3.json `DeleteScheduledSingleSend`; Iterable's api-docs.json `cancel
campaign`), and the platforms that do not declare one."""

from __future__ import annotations

import pytest
from responses import matchers

from integrations.platforms.errors import ValidationFailed
from integrations.platforms.iterable import IterableClient
from integrations.platforms.kit import KitClient
from integrations.platforms.sendgrid import SendGridClient
from tests.integrations.platforms import test_sending_iterable as iterable
from tests.integrations.platforms import test_sending_mailchimp as mailchimp
from tests.integrations.platforms import test_sending_sendgrid as sendgrid
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("steady_retries")


def test_mailchimp_unschedules_the_campaign(make_integration):
    client = mailchimp.make_client(make_integration)
    with strict() as rsps:
        rsps.post(
            f"{mailchimp.US6}/campaigns/c1/actions/unschedule",
            match=[mailchimp.AUTH],
            status=204,
        )
        client.unschedule(mailchimp.SPEC, "c1", "")


def test_sendgrid_deletes_the_schedule_not_the_single_send(make_integration):
    credentials = {"api_key": sendgrid.KEY, "sender_id": "77", "suppression_group_id": "12"}
    client = SendGridClient(make_integration("sendgrid", credentials=credentials))
    with strict() as rsps:
        rsps.delete(
            f"{sendgrid.BASE}/v3/marketing/singlesends/ss-1/schedule",
            match=[sendgrid.AUTH],
            json={"send_at": None, "status": "draft"},
        )
        client.unschedule(sendgrid.SEND, "ss-1", "")
    assert SendGridClient.can_unschedule("single_send")


def test_iterable_cancels_the_scheduled_blast(make_integration):
    integration = make_integration("iterable", region="us", credentials={"api_key": iterable.KEY})
    client = IterableClient(integration)
    with strict() as rsps:
        rsps.post(
            f"{iterable.US}/api/campaigns/cancel",
            match=[iterable.AUTH, matchers.json_params_matcher({"campaignId": 789})],
            json=iterable.OK,
        )
        client.unschedule(iterable.BLAST, "789", "")
    # Its triggered campaigns and journeys are never scheduled: nothing to take back.
    assert IterableClient.can_unschedule("blast_campaign")
    assert not IterableClient.can_unschedule("journey")


def test_a_platform_with_no_unschedule_call_refuses_without_calling(make_integration):
    assert not KitClient.can_unschedule("broadcast")
    client = KitClient(make_integration("kit"))
    with strict(), pytest.raises(ValidationFailed, match="unschedule it in Kit"):
        client.unschedule(mailchimp.SPEC, "1", "")
