"""The production profile: the settings module plus what a deployment behind TLS needs.

Use it with DJANGO_SETTINGS_MODULE=sharpsend.settings_production. Everything still comes from
the environment; this profile only changes defaults, so that `manage.py check --deploy` passes
(docs/deploying.md lists each setting).
"""

from sharpsend.settings import *  # noqa: F403
from sharpsend.settings import env

# TLS is ended by the proxy in front, which says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
