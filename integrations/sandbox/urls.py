"""/sandbox/<platform>/<the platform's real host>/<its real path>, one emulator module each;
/sandbox/ itself is the index of their base URLs and test credentials (staff only)."""

from django.urls import include, path

from integrations.sandbox import oauth, views
from integrations.sandbox.registry import emulators

urlpatterns = [
    path("", views.index, name="sandbox-index"),
    path("connect/<str:slug>.json", views.wizard_values, name="sandbox-wizard-values"),
    path("webhooks/<str:slug>/", views.add_webhook, name="sandbox-add-webhook"),
    path("oauth/<str:slug>/authorize", oauth.authorize, name="sandbox-oauth-authorize"),
    path("oauth/<str:slug>/token", oauth.token, name="sandbox-oauth-token"),
    *(path(f"{slug}/", include(module)) for slug, module in sorted(emulators().items())),
]
