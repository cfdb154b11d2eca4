"""/sandbox/<platform>/<the platform's real host>/<its real path>, one emulator module each."""

from django.urls import include, path

from integrations.sandbox import oauth
from integrations.sandbox.registry import emulators

urlpatterns = [
    path("oauth/<str:slug>/authorize", oauth.authorize, name="sandbox-oauth-authorize"),
    path("oauth/<str:slug>/token", oauth.token, name="sandbox-oauth-token"),
    *(path(f"{slug}/", include(module)) for slug, module in sorted(emulators().items())),
]
