"""Settings for Route Finder: whatever differs between machines comes from the environment."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def envvalue(name: str, default: str) -> str:
    """The variable's value; unset or empty, the default."""
    return os.getenv(name, "").strip() or default


def quoted(value: str) -> str:
    return repr(value if len(value) <= 40 else f"{value[:40]}…")


# A mistyped value stops start-up: read as off, SECURE_SSL_REDIRECT=ture would quietly serve
# plain HTTP.
def envbool(name: str, default: str) -> bool:
    value = envvalue(name, default)
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of true, yes, on, 1 or false, no, off, 0; not {quoted(value)}."
    )


def envint(name: str, default: str, least: int = 0, most: int = 10**9) -> int:
    """`most`: past it a number means nothing (a retention of 10**9 days is not a date)."""
    value = envvalue(name, default)
    try:
        number: int | None = int(value)
    except ValueError:
        number = None
    if number is None or not least <= number <= most:
        raise ImproperlyConfigured(
            f"{name} must be a whole number from {least} to {most}, not {quoted(value)}."
        )
    return number


def envseconds(name: str, default: str, least: float, most: float) -> float:
    value = envvalue(name, default)
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not least <= number <= most:  # nan fails too
        raise ImproperlyConfigured(
            f"{name} must be a number of seconds from {least} to {most}, not {quoted(value)}."
        )
    return number


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "True")

SECRET_KEY = os.getenv("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "eligibility",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_countries",
    "axes",
    "auditlog",
    "django_tasks_db",
]

MIDDLEWARE = [
    "eligibility.middleware.head_without_body",
    "django.middleware.security.SecurityMiddleware",
    "eligibility.middleware.permissions_policy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "eligibility.middleware.utf8_forms_only",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "eligibility.middleware.TrustedAddressAuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "eligibility.urls"
WSGI_APPLICATION = "eligibility.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.getenv("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DB_CONN_MAX_AGE", "0"),
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# A route's admin page posts every field of every row it shows (gates, key facts, open
# questions; a gate's page, its dated values): Django's default of 1,000 refused a route of 54
# gates, and a route of 300 gates, each with its values, stays well within this. The size of the
# body is still capped by DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB).
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20_000

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.getenv("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# In production WhiteNoise serves collectstatic's compressed, content-hashed files; development
# and tests read the source files, so they never need collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# No inline scripts or styles anywhere: htmx and our own code load from 'self' with a nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# On in production by default; each can be turned off (e.g. SSL redirect when a proxy already
# redirects, or plain-HTTP benchmarks on 127.0.0.1).
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", str(not DEBUG))
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = envbool("SECURE_COOKIES", str(not DEBUG))
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", str(not DEBUG))
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", str(not DEBUG))
if os.getenv("SECURE_PROXY_SSL_HEADER"):
    # "HTTP_X_FORWARDED_PROTO,https": trust this header, set by our own proxy, to mean HTTPS.
    _header, _, _value = os.environ["SECURE_PROXY_SSL_HEADER"].partition(",")
    if not _header.startswith("HTTP_") or not _value:
        raise ImproperlyConfigured(
            "SECURE_PROXY_SSL_HEADER must look like HTTP_X_FORWARDED_PROTO,https."
        )
    SECURE_PROXY_SSL_HEADER = (_header.strip(), _value.strip())
# How many proxies of ours append to X-Forwarded-For; 0 means clients connect directly and
# REMOTE_ADDR is the client (the only safe reading without a proxy: the header is forgeable).
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", "0")

# Shared state lives in Redis when REDIS_URL is set, so any number of app processes on any
# number of machines see the same sessions, rate-limit counters and cached rules. Without it
# the cache is per process: fine for development and a single process.
REDIS_URL = os.getenv("REDIS_URL", "")
# Redis down is a slower site, never a broken one: the cache then answers every read as a miss
# and drops every write (django-redis's IGNORE_EXCEPTIONS, each logged), so cached rules are
# read from the database, sessions from the database (cached_db), and the rate limits are not
# applied (eligibility.throttle logs it). A Redis that does not answer costs at most the
# timeouts below per cache call.
REDIS_TIMEOUT_SECONDS = envseconds("REDIS_TIMEOUT_SECONDS", "0.25", least=0.01, most=60)


def redis_cache(url: str, key_prefix: str) -> dict[str, Any]:
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": key_prefix,
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT_SECONDS,
            "SOCKET_TIMEOUT": REDIS_TIMEOUT_SECONDS,
        },
    }


DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "eligibility.cache"

if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL, os.getenv("CACHE_KEY_PREFIX", "route-finder"))}
    # Read from Redis, written through to the database: a Redis restart or outage logs nobody
    # out and loses no session.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Applicants: at most this many new assessments per client IP per window (HTTP 429 beyond).
NEW_ASSESSMENTS_LIMIT = envint("NEW_ASSESSMENTS_LIMIT", "10")
NEW_ASSESSMENTS_WINDOW_SECONDS = envint("NEW_ASSESSMENTS_WINDOW_SECONDS", "60", least=1)
# ... and at most this many answers: a flood, not a classroom behind one address answering
# a question every few seconds each.
ANSWERS_LIMIT = envint("ANSWERS_LIMIT", "300")
ANSWERS_WINDOW_SECONDS = envint("ANSWERS_WINDOW_SECONDS", "60", least=1)

# Advisers: failed admin logins lock that username from that IP for a cool-off period, never
# for good, and trying again while locked out does not extend it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("ADMIN_LOGIN_FAILURE_LIMIT", "5", least=1)
AXES_COOLOFF_TIME = dt.timedelta(
    minutes=envint("ADMIN_LOGIN_COOLOFF_MINUTES", "15", least=1, most=60 * 24 * 365)
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "eligibility.throttle.admin_locked_out"
AXES_CLIENT_IP_CALLABLE = "eligibility.throttle.client_ip"
AXES_VERBOSE = False

# Benchmarks only (make bench): mounts the floor view and adds a query-count header.
BENCH_MODE = envbool("BENCH_MODE", "False")
if BENCH_MODE:
    MIDDLEWARE.insert(0, "eligibility.bench.QueryCountMiddleware")

# PDFs are made by PDF workers (`make worker`: manage.py pdf_worker), never by the web
# processes: the web process queues a task in the database the app already uses, and any
# number of workers on any number of machines take tasks from it.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["pdf"],
    }
}
# Per client IP: at most this many PDFs asked for per window (HTTP 429 beyond).
PDF_REQUESTS_LIMIT = envint("PDF_REQUESTS_LIMIT", "10")
PDF_REQUESTS_WINDOW_SECONDS = envint("PDF_REQUESTS_WINDOW_SECONDS", "60", least=1)
# A results PDF longer than this is not made; the applicant is told why (the brief is 5 to 7
# pages; only a catalogue gone wrong gives 40). The HTML is measured first, so that a page
# far too long is refused before WeasyPrint lays it out.
PDF_MOST_PAGES = envint("PDF_MOST_PAGES", "40", least=1)
PDF_MOST_HTML_KB = envint("PDF_MOST_HTML_KB", "2000", least=1)
# A rendering that takes longer than this is stopped and reported as failed.
PDF_MOST_SECONDS = envint("PDF_MOST_SECONDS", "60", least=1, most=24 * 3600)
# Stored PDFs are a cache: purge_assessments deletes those older than this.
PDF_KEEP_HOURS = envint("PDF_KEEP_HOURS", "24", most=24 * 36500)
# A PDF worker exits (and `make worker` starts a fresh one) after this many PDFs, or as soon
# as it holds more than this much memory: one huge document cannot keep memory taken.
PDF_WORKER_MOST_TASKS = envint("PDF_WORKER_MOST_TASKS", "100", least=1)
PDF_WORKER_MOST_MB = envint("PDF_WORKER_MOST_MB", "300", least=1)

# How long an applicant's answers are kept before purge_assessments removes them.
ASSESSMENT_RETENTION_DAYS = envint("ASSESSMENT_RETENTION_DAYS", "30", least=1, most=36500)
# The routes the results page compares by default when both are open to the applicant: the
# K visa and the H-1B, the choice that brings most people to Route Finder.
DEFAULT_COMPARISON = ("cn-k", "us-h1b")

# Every record is written without applicants' tokens ("Not Found: /a/***/"). Django's own
# handlers would write its records before the root's redacting one could, so the django logger
# keeps none and propagates to the root (mail_admins goes with them: ADMINS is not set), and
# runserver's request lines get a redacting handler of their own.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_tokens": {"()": "eligibility.logs.RedactTokens"},
        "cache_outage_summary": {"()": "eligibility.logs.CacheOutageSummary"},
    },
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_tokens"],
        },
    },
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
    "loggers": {
        "django": {"level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # WeasyPrint warns about every screen-only CSS feature on every PDF; its errors (a
        # refused fetch) still show, and so do eligibility.pdf's own warnings.
        "weasyprint": {"level": "ERROR"},
        # django-redis's log of each cache call it answered as a miss (DJANGO_REDIS_LOGGER).
        "eligibility.cache": {"filters": ["cache_outage_summary"]},
    },
}

# Mail (the weekly review digest: review_digest --email) through SMTP, by default to a mail
# server on this machine. In development (DEBUG, no MAIL_HOST) messages are printed instead, so
# nothing is sent by accident.
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "route-finder@localhost")
MAILERS: dict[str, dict[str, Any]]
if DEBUG and not os.getenv("MAIL_HOST"):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.getenv("MAIL_HOST", "localhost"),
                "port": envint("MAIL_PORT", "25", least=1),
                "username": os.getenv("MAIL_USER", ""),
                "password": os.getenv("MAIL_PASSWORD", ""),
                "use_tls": envbool("MAIL_USE_TLS", "False"),
            },
        }
    }
