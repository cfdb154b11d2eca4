"""Every URL of the project and every admin action, as each role (and anonymous).

The URLs come from the resolver itself: a pattern this module does not know fails the test,
so a new page cannot slip in unchecked. What each actor may do follows from the roles' data
(integrations/roles.py) and the rules written here, never from asking Django's own checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
import responses
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task

from audience.models import AudienceSegment, Subscriber
from campaigns.models import Assignment, AssignmentTarget, CampaignSend, Experiment
from integrations import roles
from integrations.models import (
    ApiCall,
    AuditAction,
    Integration,
    Segment,
    SegmentPush,
    SyncRecord,
    SyncRun,
    SyncStatus,
    SyncTrigger,
    WebhookEvent,
)
from integrations.services import audit, privacy

LOGIN = "/admin/login/"


@dataclass
class Actor:
    label: str
    anonymous: bool = False
    staff: bool = True
    superuser: bool = False
    perms: frozenset[str] = field(default_factory=frozenset)
    role: roles.Role | None = None

    @property
    def admin_user(self) -> bool:
        """Passes the admin's and the console's staff check."""
        return not self.anonymous and self.staff

    def can(self, *names: str) -> bool:
        """Holds any of these "app_label.codename" permissions."""
        return not self.anonymous and (self.superuser or any(n in self.perms for n in names))


def _actors() -> list[Actor]:
    actors = [
        Actor("anonymous", anonymous=True, staff=False),
        Actor("not staff (Admin group)", staff=False, role=roles.ADMIN),
        Actor("staff without a role"),
    ]
    actors += [Actor(role.name, role=role) for role in roles.ROLES]
    actors.append(Actor("superuser", superuser=True))
    for actor in actors:
        if actor.role is not None:
            actor.perms = frozenset(actor.role.codenames())
    return actors


ACTORS = _actors()

# Admins where no one adds (the logs, the audit log, django-q's results, axes' records) or
# changes (the logs and the audit log) by hand, superusers included; the audit log is never
# deleted from either.
NO_ADD = {
    "integrations.syncrun",
    "integrations.segmentpush",
    "integrations.syncrecord",
    "integrations.segment",
    "integrations.apicall",
    "integrations.auditentry",
    "integrations.webhookevent",
    "django_q.success",
    "django_q.failure",
    "django_q.ormq",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
    "campaigns.campaignsend",
    "campaigns.experiment",  # configured on the assignment (campaigns/services/experiments.py)
}
NO_CHANGE = {
    "integrations.privacyrequest",  # a request changes only through the service
    "integrations.syncrun",
    "integrations.segmentpush",
    "integrations.syncrecord",
    "integrations.segment",
    "integrations.apicall",
    "integrations.auditentry",
    "campaigns.campaignsend",
    "campaigns.experiment",
    "integrations.webhookevent",
}
# The send ledger is never deleted by hand: it is what stops a second send.
# Nor an A/B test: its splits and sends hang on it (it goes with its assignment).
NO_DELETE = {"integrations.auditentry", "campaigns.campaignsend", "campaigns.experiment"}
# The platforms' emulated APIs and the sandbox's authorization server: they answer to the
# sandbox's fake keys and tokens, not to console users (tests/integrations/sandbox).
EMULATED = re.compile(r"^sandbox/(?!$|connect/)")


def walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            assert isinstance(pattern, URLPattern)
            yield prefix + str(pattern.pattern)


@dataclass(frozen=True)
class Check:
    """One request and what each actor gets: a status, and for a redirect where to."""

    route: str
    method: str
    url: str
    expect: object  # (Actor) -> (status, location prefix or None)
    data: dict | None = None


def staff_page(rule):
    """Anonymous and non-staff users go to the login page; staff get `rule(actor)`."""

    def expect(actor: Actor):
        if not actor.admin_user:
            return 302, LOGIN
        return rule(actor)

    return expect


def allowed_if(test, ok=200, where=None):
    return staff_page(lambda a: (ok, where) if test(a) else (403, None))


def _completed_access_request():
    """An access request run to its end; Customer.io's App API answers that it holds no such
    person (its person read, mocked with `responses`: the walk's integrations are not sandboxed)."""
    with responses.RequestsMock() as rsps:
        rsps.get(re.compile(r"https://api\.customer\.io/v1/customers/[^/]+/attributes"), status=404)
        request = privacy.run_until_settled(
            privacy.open_request("access", "p@example.org", via="test"), timeout=0
        )
    assert request.bundle is not None, [t.reason for t in request.tasks.all()]
    return request


@pytest.fixture
def world(make_integration, monkeypatch):
    """One object of every model the admin shows, and the paths' arguments for them."""
    roles.ensure_roles()
    from integrations.views import logs

    # The dry run's page is the point here, not a mapping of real subscribers.
    monkeypatch.setattr(logs.sync, "dry_run_requests", lambda integration: [])
    integration = make_integration("customerio", name="Role walk")
    run = SyncRun.objects.create(
        integration=integration, trigger=SyncTrigger.MANUAL, status=SyncStatus.PARTIAL
    )
    now = timezone.now()
    segment = AudienceSegment.objects.create(name="Role walk", slug="role-walk")
    push = SegmentPush.objects.create(segment=segment, integration=integration)
    someone = User.objects.create_user("someone")
    assignment = Assignment.objects.create(title="Issue 1", subject="Hello", author=someone)
    # Its own integration: a target protects its integration from deletion.
    target = AssignmentTarget.objects.create(
        assignment=assignment,
        integration=make_integration("customerio", name="Role walk sends"),
        method="api_triggered_broadcast",
    )
    objects = {
        "integrations.integration": integration,
        "integrations.syncrun": run,
        "integrations.syncrecord": SyncRecord.objects.create(
            run=run, email="a@example.org", outcome="rejected_data", message="bad"
        ),
        "integrations.segment": Segment.objects.create(
            integration=integration, remote_id="s1", name="Newsletter", imported_at=now
        ),
        "integrations.apicall": ApiCall.objects.create(
            integration=integration,
            surface="api",
            method="GET",
            path="/v1/x",
            ok=True,
            latency_ms=3.0,
            at=now,
        ),
        "integrations.auditentry": audit.record(
            AuditAction.SYNC_REQUESTED, via="test", target=integration
        ),
        "integrations.webhookevent": WebhookEvent.objects.create(
            integration=integration, dedupe_key="sha256:walk", body=b"{}", state="failed"
        ),
        "audience.subscriber": Subscriber.objects.create(email="s@example.org"),
        "audience.audiencesegment": segment,
        "integrations.segmentpush": push,
        # Complete at once (Customer.io holds no such person): its bundle downloadable.
        "integrations.privacyrequest": _completed_access_request(),
        "auth.group": Group.objects.get(name="Viewer"),
        "auth.user": someone,
        "campaigns.assignment": assignment,
        "campaigns.experiment": Experiment.objects.create(assignment=assignment),
        "campaigns.campaignsend": CampaignSend.objects.create(
            target=target, idempotency_key="ss-role-walk"
        ),
        "django_q.schedule": Schedule.objects.create(func="math.floor", name="role walk"),
        "django_q.success": Task.objects.create(
            id="a" * 32, name="ok", func="math.floor", started=now, stopped=now, success=True
        ),
        "django_q.failure": Task.objects.create(
            id="b" * 32, name="ko", func="math.floor", started=now, stopped=now, success=False
        ),
        "django_q.ormq": OrmQ.objects.create(key="default", payload="x", lock=now),
        "axes.accessattempt": AccessAttempt.objects.create(
            username="x",
            user_agent="ua",
            http_accept="*/*",
            path_info="/admin/login/",
            get_data="",
            post_data="",
            failures_since_start=1,
        ),  # fmt: skip
        "axes.accesslog": AccessLog.objects.create(
            username="x", user_agent="ua", http_accept="*/*", path_info="/admin/login/"
        ),
        "axes.accessfailurelog": AccessFailureLog.objects.create(
            username="x", user_agent="ua", http_accept="*/*", path_info="/admin/login/"
        ),
    }
    return objects


def checks(world) -> tuple[list[Check], int]:
    """The checks for every URL pattern; and how many emulated-API patterns were left."""
    integration = world["integrations.integration"]
    run = world["integrations.syncrun"]
    labels = {f"{m._meta.app_label}/{m._meta.model_name}": m for m in admin.site._registry}
    app_labels = sorted({m._meta.app_label for m in admin.site._registry})
    result: list[Check] = []
    emulated = 0
    for route in walk(get_resolver().url_patterns):
        if EMULATED.match(route):
            emulated += 1
            continue
        found = _admin_model_checks(route, labels, world)
        if found is None:
            found = _other_checks(
                route, integration, run, app_labels, world["integrations.privacyrequest"].pk
            )
        assert found, f"No check for the URL pattern {route!r}: add one to this module."
        result += found
    return result, emulated


ADMIN_MODEL = re.compile(
    r"^admin/(?P<app>\w+)/(?P<model>\w+)/"
    r"(?P<rest>|add/|<path:object_id>/(?:history/|delete/|change/)?|<id>/password/)$"
)


def _admin_model_checks(route, labels, world) -> list[Check] | None:
    match = ADMIN_MODEL.match(route)
    if match is None:
        return None
    model = labels.get(f"{match['app']}/{match['model']}")
    if model is None:
        return None  # e.g. admin/password_change/done/
    key = model._meta.label_lower
    obj = world[key]

    def perm(action):
        return f"{model._meta.app_label}.{action}_{model._meta.model_name}"

    def may_view(a):
        return a.can(perm("view"), perm("change"))

    base = f"/admin/{match['app']}/{match['model']}/"
    rest = match["rest"]
    change_url = f"{base}{obj.pk}/change/"
    if rest == "":
        return [Check(route, "GET", base, allowed_if(may_view))]
    if rest == "add/":
        return [
            Check(
                route,
                "GET",
                base + "add/",
                allowed_if(lambda a: key not in NO_ADD and a.can(perm("add"))),
            )
        ]
    if rest == "<id>/password/":
        return [
            Check(
                route,
                "GET",
                f"{base}{obj.pk}/password/",
                allowed_if(lambda a: a.can(perm("change"))),
            )
        ]
    if rest == "<path:object_id>/":
        return [Check(route, "GET", f"{base}{obj.pk}/", staff_page(lambda a: (302, change_url)))]
    if rest.endswith("history/"):
        return [Check(route, "GET", f"{base}{obj.pk}/history/", allowed_if(may_view))]
    if rest.endswith("delete/"):
        may_delete = lambda a: key not in NO_DELETE and a.can(perm("delete"))  # noqa: E731
        return [Check(route, "GET", f"{base}{obj.pk}/delete/", allowed_if(may_delete))]

    def change_post(a):
        # An empty form: its errors (200), or saved where nothing is required (302).
        if key not in NO_CHANGE and a.can(perm("change")):
            return ("200/302", None)
        return 403, None

    return [
        Check(route, "GET", change_url, allowed_if(may_view)),
        Check(route, "POST", change_url, staff_page(change_post), data={}),
    ]


def _app_visible(actor: Actor, app_label: str) -> bool:
    if actor.superuser:
        return True
    models = [m for m in admin.site._registry if m._meta.app_label == app_label]
    return any(
        actor.can(f"{app_label}.{action}_{m._meta.model_name}")
        for m in models
        for action in ("view", "add", "change", "delete")
    )


def _other_checks(route, integration, run, app_labels, privacy_pk) -> list[Check]:
    pk, run_pk = integration.pk, run.pk
    view = "integrations.view_integration"
    assignments = "campaigns.view_assignment"
    runner = "integrations.run_sync"
    everyone = lambda status, where=None: lambda a: (status, where)  # noqa: E731
    ct = ContentType.objects.get_for_model(Integration).pk
    run_page = "/console/runs/"

    def login_page(a):
        return (302, "/admin/") if a.admin_user else (200, None)

    def wizard(perm):
        def expect(a):
            if a.anonymous:
                return 302, LOGIN
            return (200, None) if a.staff and a.can(perm) else (403, None)

        return expect

    def connecting(a):
        # Unknown state (400) for those who may connect; refused for the others.
        return (
            (400, None)
            if a.can("integrations.add_integration", "integrations.change_integration")
            else (403, None)
        )  # noqa: E501

    table = {
        "": [Check(route, "GET", "/", everyone(302, "/admin/"))],
        "admin/": [Check(route, "GET", "/admin/", staff_page(everyone(200)))],
        "admin/login/": [Check(route, "GET", LOGIN, login_page)],
        # Signing out is a POST; a GET by someone not signed in to the admin goes to it.
        "admin/logout/": [
            Check(
                route,
                "GET",
                "/admin/logout/",
                lambda a: (405, None) if a.admin_user else (302, "/admin/"),
            )
        ],
        "admin/password_change/": [
            Check(route, "GET", "/admin/password_change/", staff_page(everyone(200)))
        ],
        "admin/password_change/done/": [
            Check(route, "GET", "/admin/password_change/done/", staff_page(everyone(200)))
        ],
        # No admin offers autocomplete: every lookup is refused.
        "admin/autocomplete/": [
            Check(route, "GET", "/admin/autocomplete/", staff_page(everyone(403)))
        ],
        "admin/jsi18n/": [Check(route, "GET", "/admin/jsi18n/", staff_page(everyone(200)))],
        # Integrations have no public page to send anyone to.
        "admin/r/<path:content_type_id>/<path:object_id>/": [
            Check(route, "GET", f"/admin/r/{ct}/{pk}/", staff_page(everyone(404)))
        ],
        "admin/(?P<url>.*)$": [
            Check(route, "GET", "/admin/no-such-page/", staff_page(everyone(404)))
        ],
        # The target form's lookup of what a trigger-only method can trigger (JSON).
        "admin/campaigns/assignment/trigger-choices/": [
            Check(
                route,
                "GET",
                f"/admin/campaigns/assignment/trigger-choices/?integration={integration.pk}"
                "&method=campaign",
                allowed_if(
                    lambda a: a.can("campaigns.add_assignment", "campaigns.change_assignment")
                ),
            )
        ],
        "console/": [Check(route, "GET", "/console/", allowed_if(lambda a: a.can(view)))],
        "console/analytics/": [
            Check(route, "GET", "/console/analytics/", allowed_if(lambda a: a.can(assignments)))
        ],
        "console/analytics/assignments/<int:pk>/": [
            Check(
                route,
                "GET",
                f"/console/analytics/assignments/{Assignment.objects.earliest('pk').pk}/",
                allowed_if(lambda a: a.can(assignments)),
            )
        ],
        "console/analytics/export.csv": [
            Check(
                route,
                "GET",
                "/console/analytics/export.csv",
                allowed_if(lambda a: a.can(assignments)),
            )
        ],
        "console/connect/": [
            Check(route, "GET", "/console/connect/", wizard("integrations.add_integration"))
        ],
        "console/integrations/<int:pk>/": [
            Check(route, "GET", f"/console/integrations/{pk}/", allowed_if(lambda a: a.can(view)))
        ],
        "console/integrations/<int:pk>/edit/": [
            Check(
                route,
                "GET",
                f"/console/integrations/{pk}/edit/",
                wizard("integrations.change_integration"),
            )
        ],
        "console/integrations/<int:pk>/sync/": [
            Check(route, "GET", f"/console/integrations/{pk}/sync/", everyone(405)),
            Check(
                route,
                "POST",
                f"/console/integrations/{pk}/sync/",
                allowed_if(lambda a: a.can(runner), 302, run_page),
            ),
        ],
        "console/integrations/<int:pk>/dry-run/": [
            Check(
                route,
                "POST",
                f"/console/integrations/{pk}/dry-run/",
                allowed_if(lambda a: a.can(view) and a.can(runner)),
            )
        ],
        "console/runs/<int:pk>/": [
            Check(route, "GET", f"/console/runs/{run_pk}/", allowed_if(lambda a: a.can(view)))
        ],
        "console/runs/<int:pk>/status.json": [
            Check(
                route,
                "GET",
                f"/console/runs/{run_pk}/status.json",
                allowed_if(lambda a: a.can(view)),
            )
        ],
        "console/runs/<int:pk>/failures.csv": [
            Check(
                route,
                "GET",
                f"/console/runs/{run_pk}/failures.csv",
                allowed_if(lambda a: a.can(view)),
            )
        ],
        "console/runs/<int:pk>/retry/": [
            Check(
                route,
                "POST",
                f"/console/runs/{run_pk}/retry/",
                allowed_if(lambda a: a.can(runner), 302, run_page),
            )
        ],
        "console/integrations/<int:pk>/reconnect/": [
            Check(
                route,
                "POST",
                f"/console/integrations/{pk}/reconnect/",
                allowed_if(
                    lambda a: a.can("integrations.change_integration"),
                    302,
                    f"/console/integrations/{pk}/",
                ),
            )
        ],
        "console/oauth/callback/": [
            Check(route, "GET", "/console/oauth/callback/?state=forged", staff_page(connecting))
        ],
        "console/privacy/<int:pk>/bundle.json": [
            Check(
                route,
                "GET",
                f"/console/privacy/{privacy_pk}/bundle.json",
                allowed_if(lambda a: a.can("integrations.handle_privacyrequest")),
            )
        ],
        "console/privacy/<int:pk>/bundle/": [
            Check(
                route,
                "GET",
                f"/console/privacy/{privacy_pk}/bundle/",
                allowed_if(lambda a: a.can("integrations.handle_privacyrequest")),
            )
        ],
        "console/privacy/capabilities/": [
            Check(
                route,
                "GET",
                "/console/privacy/capabilities/",
                allowed_if(lambda a: a.can("integrations.view_privacyrequest")),
            )
        ],
        "sandbox/": [Check(route, "GET", "/sandbox/", allowed_if(lambda a: a.can(view)))],
        # Public by design: the platforms post here; the signature is the check
        # (tests/integrations/webhooks). Its GET is the probe Mailchimp makes.
        "webhooks/<str:webhook_id>/": [
            Check(route, "GET", f"/webhooks/{integration.webhook_id}/", lambda a: (200, None)),
            Check(route, "POST", f"/webhooks/{integration.webhook_id}/", lambda a: (401, None)),
        ],
        # Public by design: Campaign Monitor fetches a send's content here; the signed token is
        # the check (tests/campaigns/test_content_views.py). A token that is not one: 404.
        "content/<int:assignment_id>/<str:token>/": [
            Check(route, "GET", "/content/1/not-a-token/", lambda a: (404, None)),
            Check(route, "POST", "/content/1/not-a-token/", lambda a: (405, None)),
        ],
        "sandbox/connect/<str:slug>.json": [
            Check(
                route,
                "GET",
                reverse("sandbox-wizard-values", args=["customerio"]),
                allowed_if(lambda a: a.can(view)),
            )
        ],
    }
    if route.startswith("admin/^(?P<app_label>"):
        listed = re.search(r"\(\?P<app_label>([^)]*)\)", route)[1].split("|")
        assert sorted(listed) == app_labels
        return [
            Check(
                route,
                "GET",
                f"/admin/{label}/",
                staff_page(lambda a, label=label: (200 if _app_visible(a, label) else 404, None)),
            )
            for label in listed
        ]
    return table.get(route, [])


def _login(client, actor: Actor) -> None:
    if actor.anonymous:
        return
    user = User.objects.create_user(
        f"walker-{actor.label.replace(' ', '-')}",
        is_staff=actor.staff,
        is_superuser=actor.superuser,
    )
    if actor.role is not None:
        user.groups.add(Group.objects.get(name=actor.role.name))
    client.force_login(user)


def _outcome(response) -> tuple[int, str]:
    return response.status_code, response.headers.get("Location", "")


def _matches(expected, status: int, location: str) -> bool:
    want, where = expected
    if want == "200/302":
        return status in (200, 302)
    if status != want:
        return False
    return where is None or location.startswith(where)


@pytest.mark.parametrize("actor", ACTORS, ids=[a.label for a in ACTORS])
def test_every_url_as_each_role(client, world, actor):
    found, emulated = checks(world)
    _login(client, actor)
    wrong = []
    for check in found:
        call = client.post if check.method == "POST" else client.get
        response = call(check.url, check.data or {})
        status, location = _outcome(response)
        expected = check.expect(actor)
        if not _matches(expected, status, location):
            wrong.append(f"{check.method} {check.url}: {status} {location} (expected {expected})")
    assert not wrong, f"{actor.label}:\n" + "\n".join(wrong)
    assert len(found) > 100 and emulated > 0  # the walk reached the admin and the sandbox


# --- admin actions --------------------------------------------------------------------------

ACTIONS = {
    # action name: the permission besides seeing the list
    "sync_now": "integrations.run_sync",
    "test_connection": "integrations.run_sync",
    "import_segments": "integrations.run_sync",
    # It writes to the platform's settings and stores the secrets the platform hands back.
    "register_webhooks": "integrations.change_integration",
    "delete_selected": "integrations.delete_integration",
}
# Actions of the other console admins: (model, action, permission besides seeing the list).
OTHER_ACTIONS = [
    ("integrations.segment", "import_members", "integrations.run_sync"),
    # "Create/update on <integration>": one action per pushable integration.
    ("audience.audiencesegment", "push_to_{integration}", "integrations.run_sync"),
]


@pytest.mark.parametrize("actor", ACTORS, ids=[a.label for a in ACTORS])
def test_every_integration_action_as_each_role(
    client, world, actor, django_capture_on_commit_callbacks, monkeypatch
):
    from integrations.services import queue

    queued = []
    monkeypatch.setattr(queue, "async_task", lambda *args, **kwargs: queued.append(args[0]))
    integration = world["integrations.integration"]
    # Customer.io's webhooks are not registered by the console: SendGrid's are.
    registering = Integration.objects.create(platform="sendgrid", name="Role walk webhooks")
    _login(client, actor)
    url = reverse("admin:integrations_integration_changelist")
    wrong = []
    for action, permission in ACTIONS.items():
        queued.clear()
        target = registering if action == "register_webhooks" else integration
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, {"action": action, "_selected_action": [target.pk]})
        status = response.status_code
        if not actor.admin_user:
            ok = status == 302 and response["Location"].startswith(LOGIN)
        elif not actor.can(
            "integrations.view_integration", "integrations.change_integration"
        ) or not actor.can(permission):
            ok = status == 403 and not queued
        elif action == "delete_selected":
            ok = status == 200 and b'name="post" value="yes"' in response.content  # confirm
        else:
            ok = status == 302 and len(queued) == 1
        if not ok:
            wrong.append(f"{action}: {status}, queued {queued}")
    assert Integration.objects.filter(pk=integration.pk).exists()
    assert not wrong, f"{actor.label}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("actor", ACTORS, ids=[a.label for a in ACTORS])
def test_every_other_console_action_as_each_role(
    client, world, actor, django_capture_on_commit_callbacks, monkeypatch
):
    from integrations.services import queue

    queued = []
    monkeypatch.setattr(queue, "async_task", lambda *args, **kwargs: queued.append(args[0]))
    _login(client, actor)
    wrong = []
    for label, action, permission in OTHER_ACTIONS:
        app, model = label.split(".")
        action = action.format(integration=world["integrations.integration"].pk)
        queued.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse(f"admin:{app}_{model}_changelist"),
                {"action": action, "_selected_action": [world[label].pk]},
            )
        status = response.status_code
        if not actor.admin_user:
            ok = status == 302 and response["Location"].startswith(LOGIN)
        elif not actor.can(f"{app}.view_{model}") or not actor.can(permission):
            ok = status == 403 and not queued
        else:
            ok = status == 302 and len(queued) == 1
        if not ok:
            wrong.append(f"{label} {action}: {status}, queued {queued}")
    assert not wrong, f"{actor.label}:\n" + "\n".join(wrong)


OTHER_ADMINS = ["integrations.syncrun", "integrations.auditentry", "audience.subscriber"]


@pytest.mark.parametrize("actor", ACTORS, ids=[a.label for a in ACTORS])
def test_deleting_from_other_lists_as_each_role(client, world, actor):
    """A forged "delete selected" is refused (403) where the user may not delete, and asks
    for confirmation where they may; nobody deletes from the audit log."""
    _login(client, actor)
    wrong = []
    for key in OTHER_ADMINS:
        obj = world[key]
        app_label, model_name = key.split(".")
        url = reverse(f"admin:{app_label}_{model_name}_changelist")
        response = client.post(url, {"action": "delete_selected", "_selected_action": [obj.pk]})
        may_view = actor.can(f"{key.replace('.', '.view_')}", f"{key.replace('.', '.change_')}")
        may_delete = key not in NO_DELETE and actor.can(key.replace(".", ".delete_"))
        if not actor.admin_user:
            expected = 302
        elif may_view and may_delete:
            expected = 200
        else:
            expected = 403
        if response.status_code != expected:
            wrong.append(f"{key}: {response.status_code}, expected {expected}")
        assert type(obj).objects.filter(pk=obj.pk).exists()
    assert not wrong, f"{actor.label}:\n" + "\n".join(wrong)


def test_the_walk_covers_each_role_and_reports_its_size(client, world):
    found, emulated = checks(world)
    routes = {c.route for c in found}
    assert len(ACTORS) == 10
    # Reported by the brief: role × URL counts (printed with -s).
    print(
        f"\nrole walk: {len(ACTORS)} actors × {len(found)} requests "
        f"({len(routes)} URL patterns; {emulated} emulated-API patterns left to their tests)"
    )
    assert len(routes) > 80
