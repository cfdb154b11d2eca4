"""WSGI entry point: the webhook URL through a lean handler (sharpsend/webhook_handler.py),
everything else through Django's full middleware stack."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharpsend.settings")
_full = get_wsgi_application()

from sharpsend.webhook_handler import Router, WebhookHandler  # noqa: E402 (after setup)

application = Router(_full, WebhookHandler())
