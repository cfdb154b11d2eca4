"""Demo seeding: one sandbox integration per emulated platform, each on an hourly schedule."""

import pytest
from django_q.models import Schedule

from integrations.services import demo, queue
from integrations.services.schedules import schedule_name

pytestmark = pytest.mark.django_db


def test_each_demo_integration_gets_its_hourly_schedule(monkeypatch):
    monkeypatch.setattr(queue, "async_task", lambda *args, **kwargs: None)  # no broker needed
    integrations = demo.create_demo_integrations("http://127.0.0.1:9/sandbox")
    assert integrations
    names = [schedule_name(i.pk) for i in integrations]
    minutes = dict(Schedule.objects.filter(name__in=names).values_list("name", "minutes"))
    assert minutes == {name: 60 for name in names}
