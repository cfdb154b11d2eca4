import pytest
from django.urls import reverse

from audience.models import Subscriber, SubscriberStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribers():
    statuses = list(SubscriberStatus)
    return [
        Subscriber.objects.create(
            email=f"reader{i}@example.com",
            first_name=f"First{i}",
            last_name=f"Last{i}",
            status=statuses[i % len(statuses)],
        )
        for i in range(12)
    ]


def test_changelist_lists_subscribers_in_bounded_queries(
    admin_client, subscribers, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:audience_subscriber_changelist"))
    assert response.status_code == 200
    content = response.content.decode()
    for subscriber in subscribers:
        assert subscriber.email in content
    assert "First3" in content and "Last3" in content


def test_filter_by_status_and_search(admin_client, subscribers):
    url = reverse("admin:audience_subscriber_changelist")
    response = admin_client.get(url, {"status__exact": "bounced"})
    emails = {s.email for s in response.context["cl"].result_list}
    assert emails == {s.email for s in subscribers if s.status == "bounced"}
    response = admin_client.get(url, {"q": "Last11"})
    assert [s.email for s in response.context["cl"].result_list] == ["reader11@example.com"]


def test_engagement_fields_are_read_only(admin_client, subscribers):
    subscriber = subscribers[0]
    Subscriber.objects.filter(pk=subscriber.pk).update(opens_count=7)
    url = reverse("admin:audience_subscriber_change", args=[subscriber.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "opens_count" not in form.fields
    assert "email" in form.fields
    response = admin_client.post(
        url,
        {
            "email": subscriber.email,
            "first_name": "Changed",
            "last_name": "",
            "status": "subscribed",
            "attributes": "{}",
            "opens_count": "999",
        },
    )
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.first_name == "Changed"
    assert subscriber.opens_count == 7
