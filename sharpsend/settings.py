"""Settings for the SharpSend integration console.

Everything that differs between machines comes from the environment (or an optional `.env`
beside manage.py). With nothing set, the console runs on SQLite with django-q2's ORM broker;
`DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and Redis.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, False),
    PORT=(int, 8000),
)
environ.Env.read_env(BASE_DIR / ".env")  # real environment variables win

SECRET_KEY = env("SECRET_KEY")
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
# django-fernet-encrypted-fields derives its key from SECRET_KEY and these salts; the first
# salt encrypts, all of them decrypt.
SALT_KEY = env.list("SALT_KEY")
DEBUG = env("DEBUG")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # OpClass in index expressions (sharpsend/indexes.py)
    "formtools",
    "django_q",
    "csp",
    "axes",
    "audience",
    "integrations",
    "integrations.sandbox",
    "campaigns",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "integrations.sandbox.guard.SandboxAccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its answer.
    "axes.middleware.AxesMiddleware",
]

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one user name
# from one address, that pair is locked out for AXES_COOLOFF_MINUTES.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

# Content Security Policy (django-csp): scripts only from the console's own static files (no
# inline script anywhere), nothing may frame the console. Inline styles stay allowed: the
# Django admin's templates use them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    }
}

ROOT_URLCONF = "sharpsend.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "sharpsend.wsgi.application"
ASGI_APPLICATION = "sharpsend.asgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the q cluster write to one file: without IMMEDIATE transactions a
    # read-then-write transaction fails at once with "database is locked" (STACK-NOTES §2).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"
        ),
    }
    # Tests use a file too (one per test process): shared-cache in-memory SQLite locks whole
    # tables and ignores the busy timeout, unlike the file the console runs on.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(env("TMPDIR", default="/tmp")) / f"sharpsend-test-{os.getpid()}.sqlite3")
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "sharpsend",
        }
    }
else:
    CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

Q_CLUSTER = {
    "name": "sharpsend",
    "workers": env.int("Q_WORKERS", default=2),
    # A sync of a large audience runs for minutes; a run that dies is taken over by the
    # next attempt through its heartbeat (integrations.services.sync_runs).
    "timeout": 1800,
    "retry": 1860,
    "max_attempts": 3,
    "queue_limit": 50,
    "bulk": 10,
    "catch_up": False,
    "label": "Task queue",
    "poll": 0.5,
    "ack_failures": True,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    # The web server's request lines carry webhook tokens and signed content URLs: redacted
    # (Django's own "django.server" set-up otherwise, which configuring the logger replaces).
    "filters": {"url_secrets": {"()": "sharpsend.log_filters.RedactUrlSecrets"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "loggers": {
        "django.server": {
            "handlers": ["django.server"],
            "filters": ["url_secrets"],
            "level": "INFO",
            "propagate": False,
        },
        # "Not Found: <path>" for a content URL whose token is refused.
        "django.request": {"filters": ["url_secrets"]},
        "integrations": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
        "audience": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    },
}

# --- the console's own settings -------------------------------------------------------------

PORT = env("PORT")
# Where the platforms reach this console (scheme and host, no path): the webhook URLs the
# console registers with them and the content URLs Campaign Monitor fetches start here. In
# production an https address the platforms can reach; `make run` sets it to the local server
# (the sandbox's emulators post and fetch there).
CONSOLE_BASE_URL = env("CONSOLE_BASE_URL", default=f"http://127.0.0.1:{PORT}")
# The built-in emulators of every platform's API, served under /sandbox/ to this machine and
# staff (never in production): on with DEBUG unless turned off, off without it unless asked.
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=DEBUG)
SANDBOX_BASE_URL = env("SANDBOX_BASE_URL", default=f"http://127.0.0.1:{PORT}/sandbox")

# HTTP behaviour of every platform client.
PLATFORM_HTTP_TIMEOUT = env.float("PLATFORM_HTTP_TIMEOUT", default=30.0)
PLATFORM_MAX_ATTEMPTS = env.int("PLATFORM_MAX_ATTEMPTS", default=5)
PLATFORM_BACKOFF_BASE = env.float("PLATFORM_BACKOFF_BASE", default=0.5)
PLATFORM_BACKOFF_MAX = env.float("PLATFORM_BACKOFF_MAX", default=30.0)
# A Retry-After longer than this is not waited out inside a run: the batch is marked throttled.
PLATFORM_MAX_RETRY_AFTER = env.float("PLATFORM_MAX_RETRY_AFTER", default=120.0)

# Assignments: whether an author holding approve_assignment may approve their own, and how
# long a worker holds a send it is moving along (one that died is taken over after this).
ALLOW_SELF_APPROVAL = env.bool("ALLOW_SELF_APPROVAL", default=False)
SEND_LEASE_SECONDS = env.float("SEND_LEASE_SECONDS", default=300.0)
# Campaign Monitor fetches each send's content from a signed URL under CONSOLE_BASE_URL
# (campaigns/content.py); the URLs stop working after CAMPAIGN_CONTENT_URL_MAX_AGE seconds.
CAMPAIGN_CONTENT_URL_MAX_AGE = env.int("CAMPAIGN_CONTENT_URL_MAX_AGE", default=86_400)

# Privacy requests (integrations/services/privacy.py): the legal deadline from receipt (GDPR:
# one month; CCPA: 45 days), how long an access bundle stays downloadable, and after how long
# a task left "running" (a crashed worker) is taken up again.
PRIVACY_DEADLINE_DAYS = env.int("PRIVACY_DEADLINE_DAYS", default=30)
PRIVACY_BUNDLE_TTL_HOURS = env.int("PRIVACY_BUNDLE_TTL_HOURS", default=72)
PRIVACY_TASK_STALE_MINUTES = env.int("PRIVACY_TASK_STALE_MINUTES", default=15)
PRIVACY_POLL_SECONDS = env.int("PRIVACY_POLL_SECONDS", default=60)
# A platform's asynchronous deletion job still unfinished after this is given up (failed, with
# the job id, for someone to check on the platform and retry).
PRIVACY_JOB_GIVE_UP_DAYS = env.int("PRIVACY_JOB_GIVE_UP_DAYS", default=14)
# A task failing for a transient reason (5xx, 429 after the transport's retries) waits and is
# tried again up to this many times before it is marked failed.
PRIVACY_TASK_MAX_ATTEMPTS = env.int("PRIVACY_TASK_MAX_ATTEMPTS", default=5)

# A running sync whose heartbeat is older than this is taken to have died.
SYNC_STALE_AFTER_SECONDS = env.int("SYNC_STALE_AFTER_SECONDS", default=600)
# The wizard's forecast maps every subscriber up to this many; above, a uniform sample of
# FORECAST_SAMPLE_SIZE, its counts scaled with their 95 % margins shown.
FORECAST_EXACT_UP_TO = env.int("FORECAST_EXACT_UP_TO", default=50_000)
FORECAST_SAMPLE_SIZE = env.int("FORECAST_SAMPLE_SIZE", default=10_000)
FORECAST_SAMPLE_SEED = None  # a fixed seed makes the sample repeatable (tests)
# A changed-only run reads subscribers changed since this long before the last complete run
# started (open transactions, clock differences): see integrations/services/changes.py.
SYNC_CHANGE_MARGIN_SECONDS = env.int("SYNC_CHANGE_MARGIN_SECONDS", default=600)
# A run stops after this many consecutive batches that failed for transient reasons.
SYNC_MAX_CONSECUTIVE_BATCH_FAILURES = env.int("SYNC_MAX_CONSECUTIVE_BATCH_FAILURES", default=3)

# The sandbox's OAuth server hands out access tokens this short-lived (seconds).
SANDBOX_OAUTH_ACCESS_TTL = env.int("SANDBOX_OAUTH_ACCESS_TTL", default=900)

# The console's OAuth apps, one per platform: OAUTH_<SLUG>_CLIENT_ID / OAUTH_<SLUG>_CLIENT_SECRET.
OAUTH_CLIENTS: dict[str, dict[str, str]] = {}
for _name, _value in os.environ.items():
    if _name.startswith("OAUTH_") and _name.endswith("_CLIENT_ID"):
        _slug = _name[len("OAUTH_") : -len("_CLIENT_ID")].lower()
        OAUTH_CLIENTS[_slug] = {
            "client_id": _value,
            "client_secret": os.environ.get(f"OAUTH_{_slug.upper()}_CLIENT_SECRET", ""),
        }
