"""The console's own pages: its home, the setup wizard and the sync logs."""

from django.urls import path

from integrations.views import home, logs, oauth
from integrations.views.wizard import IntegrationWizard

app_name = "integrations"

urlpatterns = [
    path("", home.home, name="home"),
    path("connect/", IntegrationWizard.as_view(), name="connect"),
    path("integrations/<int:pk>/", logs.integration_detail, name="integration"),
    path("integrations/<int:pk>/edit/", IntegrationWizard.as_view(), name="edit"),
    path("integrations/<int:pk>/sync/", logs.sync_now, name="sync"),
    path("integrations/<int:pk>/dry-run/", logs.dry_run, name="dry-run"),
    path("runs/<int:pk>/", logs.run_detail, name="run"),
    path("runs/<int:pk>/status.json", logs.run_status, name="run-status"),
    path("runs/<int:pk>/failures.csv", logs.run_failures_csv, name="run-failures"),
    path("runs/<int:pk>/retry/", logs.retry_failed, name="run-retry"),
    path("integrations/<int:pk>/reconnect/", oauth.reconnect, name="reconnect"),
    path("oauth/callback/", oauth.callback, name="oauth-callback"),
]
