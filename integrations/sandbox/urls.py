"""/sandbox/<platform>/<the platform's real host>/<its real path>, one emulator module each."""

from django.urls import include, path

from integrations.sandbox.registry import emulators

urlpatterns = [path(f"{slug}/", include(module)) for slug, module in sorted(emulators().items())]
