"""URL configuration: the admin, and the platform emulators when the sandbox is enabled."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from campaigns import content_views
from integrations.views import webhooks

admin.site.site_header = "SharpSend integration console"
admin.site.site_title = "SharpSend console"
admin.site.index_title = "Integrations, audience and campaigns"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("console/analytics/", include("campaigns.urls")),
    path("console/", include("integrations.urls")),
    # Platforms post here (no session, CSRF-exempt for this view only; see the view).
    path("webhooks/<str:webhook_id>/", webhooks.receive, name="webhook"),
    # A send's content for the platforms that fetch it (no session; the signed token decides).
    path(
        "content/<int:assignment_id>/<str:token>/",
        content_views.serve,
        name="campaign-content",
    ),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("integrations.sandbox.urls")))
