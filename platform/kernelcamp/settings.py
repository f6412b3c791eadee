"""KernelCamp settings: read from the environment, with safe defaults for development on loopback."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

SITE_DIR = Path(__file__).resolve().parent.parent  # platform/
REPO_DIR = SITE_DIR.parent
DATA_DIR = Path(os.environ.get("KC_DATA_DIR", REPO_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def require_env(name: str, why: str) -> str:
    """A setting production cannot run without: stop at start-up with its name, not later."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when KC_DEBUG is off: {why}")
    return value


DEBUG = env_bool("KC_DEBUG", True)
if DEBUG:
    SECRET_KEY = os.environ.get("KC_SECRET_KEY") or "dev-only-insecure-key-change-me"  # noqa: S105
else:
    SECRET_KEY = require_env(
        "KC_SECRET_KEY", "a long random string that signs sessions and password links"
    )
ALLOWED_HOSTS = os.environ.get("KC_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("KC_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "accounts",
    "learning",
    "grading",
    "events",
    "teams",
    "projects",
    "judging",
    "helpqueue",
    "contests",
    "oauth2_provider",
    "compute",
    "audit",
    "privacy",
    "operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "events.middleware.EventRolesMiddleware",
    "audit.middleware.AuditActorMiddleware",
    "accounts.middleware.UserLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
]

ROOT_URLCONF = "kernelcamp.urls"
WSGI_APPLICATION = "kernelcamp.wsgi.application"
ASGI_APPLICATION = "kernelcamp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SITE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "compute.context_processors.budget_warning",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'kernelcamp.sqlite3'}"),
        # Persistent connections: a request reuses its gthread worker thread's connection
        # instead of connecting (and, on SQLite, setting WAL) each time; the health check
        # replaces one the database dropped (a PostgreSQL restart) before a request uses it.
        conn_max_age=int(os.environ.get("KC_DB_CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several processes (web, grading workers) share the file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # A file, not memory, for tests too: concurrent tests need SQLite's real locking.
    # One per process, so that test runs side by side do not share it.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"kernelcamp-test-{os.getpid()}.sqlite3")
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [SITE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
DEFAULT_USER_TIME_ZONE = "Asia/Seoul"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [SITE_DIR / "static"]
_NODE_MODULES = REPO_DIR / "node_modules"
if (_NODE_MODULES / "htmx.org" / "dist").is_dir():
    STATICFILES_DIRS.append(("vendor/htmx", _NODE_MODULES / "htmx.org" / "dist"))
if (_NODE_MODULES / "katex" / "dist").is_dir():  # maths on the feedback page, served locally
    STATICFILES_DIRS.append(("vendor/katex", _NODE_MODULES / "katex" / "dist"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Where `publish_course` finds course manifests and instructor notebooks.
KC_COURSES_DIR = Path(os.environ.get("KC_COURSES_DIR", REPO_DIR / "courses"))
# Scored challenges (docs/challenges.md): where `publish_challenge` reads folders, where workers
# unpack a published challenge to score against, the largest entry file, a scoring run's lease.
KC_CHALLENGES_DIR = Path(os.environ.get("KC_CHALLENGES_DIR", REPO_DIR / "challenges"))
KC_CONTEST_CACHE_DIR = Path(os.environ.get("KC_CONTEST_CACHE_DIR", DATA_DIR / "challenges"))
KC_CONTEST_ENTRY_BYTES = int(os.environ.get("KC_CONTEST_ENTRY_BYTES", str(5 * 1024 * 1024)))
KC_CONTEST_LEASE_SECONDS = float(os.environ.get("KC_CONTEST_LEASE_SECONDS", "60"))
KC_NOTEBOOKS_DIR = Path(os.environ.get("KC_NOTEBOOKS_DIR", REPO_DIR / "notebooks"))

TASKS = {
    "default": {
        "BACKEND": os.environ.get("KC_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "grading", "grading-gpu", "contests"],
    }
}

# Grading (see docs/grading.md).
# Which grader sandbox runs submissions, and its options (grader/sandbox/: "process" takes
# base_dir, uid_base, visible_paths, require_netns, fork_server). JSON in the environment.
KC_GRADING_SANDBOX = os.environ.get("KC_GRADING_SANDBOX", "process")
KC_GRADING_SANDBOX_OPTIONS = json.loads(os.environ.get("KC_GRADING_SANDBOX_OPTIONS") or "{}")
KC_GRADING_DEVICE = os.environ.get("KC_GRADING_DEVICE", "auto")  # "auto", "cuda-simulator" or "gpu"
KC_GRADING_NOTEBOOK_TIMEOUT = float(os.environ.get("KC_GRADING_NOTEBOOK_TIMEOUT", "120"))
KC_GRADING_CELL_TIMEOUT = float(os.environ.get("KC_GRADING_CELL_TIMEOUT", "30"))
KC_GRADING_LEASE_SECONDS = float(os.environ.get("KC_GRADING_LEASE_SECONDS", "0"))  # 0: from limits
KC_GRADING_GPU_QUEUE = env_bool(
    "KC_GRADING_GPU_QUEUE", False
)  # send GPU-profile work to GPU workers
KC_GRADING_SWEEP_SECONDS = float(os.environ.get("KC_GRADING_SWEEP_SECONDS", "30"))
KC_MAX_SUBMISSION_BYTES = int(os.environ.get("KC_MAX_SUBMISSION_BYTES", str(20 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = KC_MAX_SUBMISSION_BYTES + 1024 * 1024

# Logs go to stderr; KC_LOG_FORMAT=json writes one JSON object a line for a log collector.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "kernelcamp.logs.JsonFormatter"},
    },
    "filters": {"refusals": {"()": "kernelcamp.logs.RefusalsWithoutTraceback"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": sys.stderr,
            "filters": ["refusals"],
            "formatter": "json" if os.environ.get("KC_LOG_FORMAT") == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("KC_LOG_LEVEL", "INFO")},
}

# GPU sessions through JupyterHub, and the site as the hub's OpenID Connect provider
# (see docs/sessions.md).
KC_SESSION_BACKEND = os.environ.get("KC_SESSION_BACKEND", "compute.backends.JupyterHubBackend")
KC_HUB_URL = os.environ.get("KC_HUB_URL", "")  # the hub's public (proxy) URL; empty: no sessions
KC_HUB_API_URL = os.environ.get("KC_HUB_API_URL", "")  # default: KC_HUB_URL + /hub/api
KC_HUB_API_TOKEN = os.environ.get("KC_HUB_API_TOKEN", "")
KC_HUB_TIMEOUT_S = float(os.environ.get("KC_HUB_TIMEOUT_S", "10"))
# Covers the queue a whole class makes at 9:00 (the hub starts two per core at a time).
KC_SPAWN_TIMEOUT_S = float(os.environ.get("KC_SPAWN_TIMEOUT_S", "300"))
# Launches and stops talk to the hub in a thread pool of the web process, never in the request;
# event streams of spawn progress are capped per process so short requests always find a thread
# (deploy/gunicorn.conf.py gives each worker more threads than that cap).
KC_SESSION_BACKGROUND = env_bool("KC_SESSION_BACKGROUND", True)
KC_SESSION_THREADS = int(os.environ.get("KC_SESSION_THREADS", "64"))
KC_EVENT_STREAMS = int(os.environ.get("KC_EVENT_STREAMS", "16"))
KC_BUDGET_WARN_FRACTION = float(os.environ.get("KC_BUDGET_WARN_FRACTION", "0.9"))
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": "",  # filled in by compute.oidc from the data dir, created if missing
    "OAUTH2_VALIDATOR_CLASS": "compute.oidc.KernelCampValidator",
    "PKCE_REQUIRED": True,
    "SCOPES": {
        "openid": _("OpenID Connect"),
        "profile": _("Your name and username"),
        "email": _("Your email address"),
        "groups": _("Your roles and cohorts"),
    },
    "DEFAULT_SCOPES": ["openid", "profile", "email", "groups"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
}
if not DEBUG:
    # RFC 9700 (OAuth 2.0 Security BCP), which django-oauth-toolkit 4.0 will make the default:
    # the hub's login (code flow, PKCE S256, bearer header) needs none of the legacy behaviour.
    OAUTH2_PROVIDER.update(
        {
            f"COMPLIANT_BCP_RFC9700_{gate}": True
            for gate in (
                "IMPLICIT_GRANT",
                "PASSWORD_GRANT",
                "PKCE_METHOD",
                "ACCESS_TOKEN_TRANSPORT",
                "AUTHZ_RESPONSE_ISS",
                "TOKEN_STORAGE",
            )
        }
    )
    OAUTH2_PROVIDER["REFRESH_TOKEN_REUSE_PROTECTION"] = True
if not DEBUG and KC_HUB_URL:
    KC_HUB_API_TOKEN = require_env(
        "KC_HUB_API_TOKEN", "the site's service token for the hub named by KC_HUB_URL"
    )

# --- Sessions and caches ---------------------------------------------------------------------------
# Sessions are read from a cache and written through to the database (no session query per
# request). That cache must be one that every web process shares: gunicorn's workers are
# processes, and with a per-process (LocMem) cache a session logged out in one worker would stay
# signed in on the others until it expired. A directory under KC_DATA_DIR is shared by every
# worker on one machine. KC_SESSION_CACHE_DIR="" reads sessions from the database alone: for
# replicas that share no writable directory (Kubernetes' web pods mount the data volume
# read-only; a pod-local directory would bring the stale-session problem back).
# The default cache stays per process: it holds the rendered leaderboards, keyed by board version.
KC_SESSION_CACHE_DIR = os.environ.get("KC_SESSION_CACHE_DIR", str(DATA_DIR / "cache" / "sessions"))
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "sessions": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": KC_SESSION_CACHE_DIR or str(DATA_DIR / "cache" / "sessions"),
        "OPTIONS": {"MAX_ENTRIES": 5000},  # past it a third is dropped: the database stays
    },
}
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if KC_SESSION_CACHE_DIR
    else "django.contrib.sessions.backends.db"
)
SESSION_CACHE_ALIAS = "sessions"

# --- Production profile (see docs/operations.md) -------------------------------------------------
# Behind TLS (the default when DEBUG is off): secure cookies, redirect to https, HSTS.
KC_HTTPS = env_bool("KC_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = KC_HTTPS
SECURE_SSL_REDIRECT = KC_HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("KC_HSTS_SECONDS", "31536000")) if KC_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("KC_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("KC_HSTS_PRELOAD", True)
if KC_HTTPS:
    OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"] = ["https"]  # the hub's callback too
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes speak plain http inside the cluster
if env_bool("KC_BEHIND_TLS_PROXY", False):
    # Only behind a proxy that sets this header itself, overwriting what a client sent.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The header a trusted reverse proxy puts the client's address in (e.g. HTTP_X_REAL_IP); empty:
# REMOTE_ADDR. Used to rate-limit sign-ins per address.
KC_CLIENT_IP_HEADER = os.environ.get("KC_CLIENT_IP_HEADER", "")

# Mail: set-password and reset links. Offline by default (files under var/mail); SMTP when
# KC_EMAIL_HOST is set.
KC_SITE_URL = os.environ.get("KC_SITE_URL", "").rstrip("/")  # absolute links in mail
DEFAULT_FROM_EMAIL = os.environ.get("KC_DEFAULT_FROM_EMAIL", "KernelCamp <kernelcamp@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = os.environ.get("KC_EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("KC_EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("KC_EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("KC_EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("KC_EMAIL_USE_TLS", EMAIL_PORT == 587)
    EMAIL_USE_SSL = env_bool("KC_EMAIL_USE_SSL", EMAIL_PORT == 465)
else:
    EMAIL_BACKEND = os.environ.get(
        "KC_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
    )
    EMAIL_FILE_PATH = os.environ.get("KC_EMAIL_FILE_PATH", str(DATA_DIR / "mail"))
# Set-password and reset links stay valid this long, and only until they are used.
PASSWORD_RESET_TIMEOUT = int(float(os.environ.get("KC_PASSWORD_LINK_DAYS", "7")) * 86400)

# Rate limits, counted in the database so that they hold across web workers and replicas.
AUTHENTICATION_BACKENDS = ["accounts.backends.RateLimitedModelBackend"]
KC_LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("KC_LOGIN_FAILURES_PER_ACCOUNT", "5"))
KC_LOGIN_FAILURES_PER_IP = int(os.environ.get("KC_LOGIN_FAILURES_PER_IP", "30"))
KC_LOGIN_FAILURE_WINDOW_S = int(os.environ.get("KC_LOGIN_FAILURE_WINDOW_S", "900"))
KC_PASSWORD_RESETS_PER_HOUR = int(os.environ.get("KC_PASSWORD_RESETS_PER_HOUR", "10"))  # per IP
KC_SUBMISSIONS_PER_MINUTE = int(os.environ.get("KC_SUBMISSIONS_PER_MINUTE", "5"))  # 0: no limit

# /readyz: the grading queue counts as stalled when its oldest waiting task is older than this.
KC_READY_MAX_QUEUE_WAIT_S = float(os.environ.get("KC_READY_MAX_QUEUE_WAIT_S", "600"))

# Retention (see docs/operations.md, `manage.py apply_retention`); 0 keeps forever.
KC_RETENTION_SUBMISSION_DAYS = float(os.environ.get("KC_RETENTION_SUBMISSION_DAYS", "0"))
KC_RETENTION_SESSION_LOG_DAYS = float(os.environ.get("KC_RETENTION_SESSION_LOG_DAYS", "0"))

# Optional sign-in with the institution's OpenID Connect provider (see docs/operations.md).
# Register https://<site>/accounts/oidc/callback/ there as the redirect URI.
KC_OIDC_ISSUER = os.environ.get("KC_OIDC_ISSUER", "").rstrip("/")
KC_OIDC_CLIENT_ID = os.environ.get("KC_OIDC_CLIENT_ID", "")
KC_OIDC_CLIENT_SECRET = os.environ.get("KC_OIDC_CLIENT_SECRET", "")
KC_OIDC_SCOPES = os.environ.get("KC_OIDC_SCOPES", "openid email profile")
KC_OIDC_LABEL = os.environ.get("KC_OIDC_LABEL", "")  # the button's text, e.g. the institution
# Match first sign-ins by any address the provider sends, not only those it marks verified.
KC_OIDC_TRUST_EMAILS = env_bool("KC_OIDC_TRUST_EMAILS", False)
