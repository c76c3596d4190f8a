"""
Settings for the website assistant, read once from the environment.

Every setting is listed, with its default, in `.env.example`. A `.env` file in
the project root is loaded when present; real environment variables win over it.
With no settings at all the app runs on embedded defaults: SQLite in WAL mode,
the local-memory cache, Channels' in-memory layer, local embeddings and the
extractive (no-LLM) answer provider. `DATABASE_URL` and `REDIS_URL` switch it to
PostgreSQL and Redis with no other change.

App code reads `django.conf.settings`, never `os.environ`.
"""

import ipaddress
import os
import re
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent

if os.environ.get("DOTENV", "1") != "0":
    load_dotenv(BASE_DIR / ".env", override=False)


# --- Validating helpers ------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def env_rate(name: str, default: str) -> str:
    """A django-ratelimit rate: a count per period, like 20/m, 100/h or 5/15m."""
    value = env_str(name, default).replace(" ", "")
    if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", value):
        raise ImproperlyConfigured(f"{name} must be a rate like 20/m, 100/h or 5/15m, got {value!r}")
    return value


def env_networks(name: str, values: list[str]) -> list[str]:
    """IP networks in CIDR notation (a bare address is a /32 or /128), normalised."""
    networks = []
    for value in values:
        try:
            networks.append(str(ipaddress.ip_network(value, strict=False)))
        except ValueError:
            raise ImproperlyConfigured(f"{name} must list IP networks like 10.20.0.0/16, got {value!r}") from None
    return networks


# --- Core ----------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", False)

DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """
    Production must set DJANGO_SECRET_KEY. For the embedded default a random key
    is generated once and kept in DATA_DIR, so sessions survive restarts and no
    key is ever written into the code.
    """
    key = env_str("DJANGO_SECRET_KEY")
    if key:
        return key
    if env_bool("DJANGO_REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production")
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "channels",
    # Before django_tasks_db: its `db_worker` command is replaced by chatbot's
    # (the same worker, plus leases that requeue tasks whose worker died).
    "chatbot",
    "django_tasks",
    "django_tasks_db",
    "knowledge",
    "conversations",
    "leads",
]

MIDDLEWARE = [
    "core.structured_logging.RequestIdMiddleware",
    # /healthz and /readyz answer before the host check and the HTTPS redirect (probes).
    "core.security.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy of every page and static file (core.csp).
    "core.csp.content_security_policy_middleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "chatbot.origins.WidgetOriginMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chatbot.urls"

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

WSGI_APPLICATION = "chatbot.wsgi.application"
ASGI_APPLICATION = "chatbot.asgi.application"

# --- Database ------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
            conn_health_checks=True,
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "db.sqlite3"),
            "OPTIONS": {
                # WAL lets the web process read while the task worker writes.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A sqlite:/// DATABASE_URL (the server and worker processes tests start) gets the
    # embedded default's options: without IMMEDIATE transactions and a busy timeout,
    # concurrent writers fail at once with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        **DATABASES["default"].get("OPTIONS", {}),
    }
# PostgreSQL: a pool of connections per process (psycopg_pool), which Django
# recommends under ASGI instead of persistent connections; without one every
# database call opens a connection (a server process forked per call: the
# load benchmark sustains half the answer rate). 0 turns the pool off.
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 10, minimum=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_POOL_MAX_SIZE:
    if DATABASES["default"]["CONN_MAX_AGE"]:
        raise ImproperlyConfigured(
            "DATABASE_CONN_MAX_AGE (persistent connections) and DATABASE_POOL_MAX_SIZE (a pool) exclude each "
            "other: set DATABASE_POOL_MAX_SIZE=0 to use persistent connections"
        )
    # timeout: how long a request waits for a connection before failing. reconnect_timeout:
    # after a database restart the pool retries with a doubling delay; giving up after a few
    # seconds lets the next request start a fresh attempt, so service resumes about as soon
    # as PostgreSQL is back (tests/faults/test_postgres_restart.py).
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(2, DATABASE_POOL_MAX_SIZE),
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": 5,
        "reconnect_timeout": 3,
    }
# Lets parallel test runs on one server use separate test databases.
if env_str("DATABASE_TEST_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and channel layer ---------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "chatbot"),
            # A hung Redis must not hang requests: limits fail open after this.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env_str("CACHE_KEY_PREFIX", "chatbot") + ":asgi",
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

SILENCED_SYSTEM_CHECKS = [
    # Django's own RedisCache increments atomically (INCR); django-ratelimit only
    # lists django-redis as "officially supported".
    "django_ratelimit.W001",
]
if not REDIS_URL:
    # The embedded default is one web process, so a per-process counter is the
    # whole truth. Several web processes need REDIS_URL (see chatbot.checks).
    SILENCED_SYSTEM_CHECKS.append("django_ratelimit.E003")

# --- Background tasks ----------------------------------------------------------

# "database": django-tasks-db, run by `manage.py db_worker` (started by `make run`
# next to the server, and as its own process in production).
# "immediate": runs each task in the enqueuing process once the transaction
# commits; for tests and one-off scripts only.
TASK_BACKEND = env_choice("TASK_BACKEND", "database", {"database", "immediate"})
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks_db.DatabaseBackend"
            if TASK_BACKEND == "database"
            else "django_tasks.backends.immediate.ImmediateBackend"
        ),
        "QUEUES": ["default", "index", "leads"],
    }
}
# A running task's lease (core/task_leases.py): `db_worker` renews it every
# quarter of this; a task whose worker died is requeued once it runs out.
TASKS_LEASE_SECONDS = env_int("TASKS_LEASE_SECONDS", 60, minimum=1)

# --- Auth, i18n, static and media ----------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The languages the bot's fixed texts and the widget speak (locale/<code>/LC_MESSAGES).
# Visitors are answered in the language of their message (core.language);
# LANGUAGE_CODE is the site's default, for messages too short to tell and for
# languages without a catalogue. It is also the admin's language.
LANGUAGES = [("en", "English"), ("fr", "French"), ("de", "German"), ("es", "Spanish"), ("nl", "Dutch")]
LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "en", {code for code, _ in LANGUAGES})
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Serve straight from the app folders when collectstatic has not run (tests, dev).
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))

ADMIN_URL = env_str("ADMIN_URL", "admin/").strip("/") + "/"

# --- Security (production sets these behind TLS) --------------------------------

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_TLS_PROXY", False) else None
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Seconds an admin login lasts (Django's default is two weeks): a working day.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=60)

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
# Any request body over this is refused with a 413 before it is read (core.security):
# Django's ASGI handler would otherwise spool it all to disk first.
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 100 * 1024 * 1024, minimum=1024)

# --- REST API --------------------------------------------------------------------

# Sites that may embed the widget, on top of the bot settings' "allowed origins"
# (edited in admin) and the server's own host. Comma-separated; https://*.example.com
# matches the domain and its subdomains. chatbot.origins enforces it for /ws/ and /api/.
WIDGET_ALLOWED_ORIGINS = env_list("WIDGET_ALLOWED_ORIGINS")
# CORS for the API only; which origins get it is decided per request (chatbot.origins).
CORS_URLS_REGEX = r"^/api/.*$"
CORS_PREFLIGHT_MAX_AGE = 3600

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    # JSON with bounded nesting and number size and no NUL characters (core.safejson);
    # a refused body is a 400 `bad_request` like every other refusal.
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "core.api.errors.api_exception_handler",
}
# The Swagger UI at /api/docs/ (a 404 when off); the schema at /api/schema/ is always served.
API_DOCS_ENABLED = env_bool("API_DOCS_ENABLED", DEBUG)
SPECTACULAR_SETTINGS = {
    "TITLE": "Website assistant API",
    "DESCRIPTION": "Chat, conversations, feedback and leads for the website assistant.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from drf-spectacular-sidecar's static files: no CDN needed.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Knowledge base --------------------------------------------------------------

EMBEDDING_PROVIDER = env_choice("EMBEDDING_PROVIDER", "local", {"local", "openai"})
# "onnx" runs the local model through ONNX Runtime (same vectors, ~5x faster per
# query on CPU); "torch" runs it through sentence-transformers/PyTorch.
EMBEDDING_BACKEND = env_choice("EMBEDDING_BACKEND", "onnx", {"onnx", "torch"})
EMBEDDING_OPENAI_MODEL = env_str("EMBEDDING_OPENAI_MODEL", "text-embedding-3-small")
# Texts per call of the local model, or per request to an OpenAI-compatible API.
# Small batches are fastest for the local model on a CPU: a batch of 32 x 256
# tokens no longer fits the caches (`python -m bench.embedding_batch_size`:
# 8 is about a fifth faster than 32 on this 2-core machine).
EMBEDDING_BATCH_SIZE = env_int("EMBEDDING_BATCH_SIZE", 32 if EMBEDDING_PROVIDER == "openai" else 8, minimum=1)
CHUNK_TOKENS = env_int("CHUNK_TOKENS", 200, minimum=16)
CHUNK_OVERLAP_TOKENS = env_int("CHUNK_OVERLAP_TOKENS", 30, minimum=0)
INDEX_HNSW_THRESHOLD = env_int("INDEX_HNSW_THRESHOLD", 20_000, minimum=1)
# The exported ONNX model lives outside DATA_DIR so that test runs reuse it.
MODEL_CACHE_DIR = Path(env_str("MODEL_CACHE_DIR", str(BASE_DIR / "var" / "models")))
INDEX_CACHE_DIR = Path(env_str("INDEX_CACHE_DIR", str(DATA_DIR / "index")))
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 20 * 1024 * 1024, minimum=1)
URL_FETCH_TIMEOUT = env_float("URL_FETCH_TIMEOUT", 10.0, minimum=0.1)
URL_FETCH_MAX_BYTES = env_int("URL_FETCH_MAX_BYTES", 5 * 1024 * 1024, minimum=1)
# Server-side fetches (web-page sources, their redirects, the leads webhook) reach
# public addresses only (core.netguard). 1 also allows loopback and private networks
# (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), for an intranet knowledge base;
# link-local, cloud-metadata, multicast and reserved addresses stay refused.
FETCH_ALLOW_PRIVATE_ADDRESSES = env_bool("FETCH_ALLOW_PRIVATE_ADDRESSES", False)
# Networks allowed on top of that, by CIDR (e.g. 10.20.0.0/16: one intranet, not all).
FETCH_ALLOWED_NETWORKS = env_networks("FETCH_ALLOWED_NETWORKS", env_list("FETCH_ALLOWED_NETWORKS"))

# --- LLM ----------------------------------------------------------------------------

OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL")
LLM_PROVIDER = env_choice("LLM_PROVIDER", "openai" if OPENAI_API_KEY else "extractive", {"openai", "extractive"})
LLM_MODEL = env_str("LLM_MODEL", "gpt-4o-mini")
LLM_TEMPERATURE = env_float("LLM_TEMPERATURE", 0.2, minimum=0.0)
LLM_MAX_TOKENS = env_int("LLM_MAX_TOKENS", 600, minimum=1)
LLM_TIMEOUT = env_float("LLM_TIMEOUT", 30.0, minimum=0.1)
LLM_CONNECT_TIMEOUT = env_float("LLM_CONNECT_TIMEOUT", 5.0, minimum=0.1)
LLM_MAX_RETRIES = env_int("LLM_MAX_RETRIES", 2, minimum=0)
LLM_CONTEXT_TOKENS = env_int("LLM_CONTEXT_TOKENS", 3000, minimum=256)
CHAT_HISTORY_TURNS = env_int("CHAT_HISTORY_TURNS", 6, minimum=0)
CHAT_MAX_MESSAGE_CHARS = env_int("CHAT_MAX_MESSAGE_CHARS", 2000, minimum=1)

# --- Rate limits and cost caps (core.limits) ----------------------------------------

# django-ratelimit rates ("count/period", period s, m, h, d or e.g. 15m), counted in the
# cache (Redis in production), shared by REST and WebSocket. A limited client gets a
# `rate_limited` error with `retry_after` (HTTP 429 with Retry-After).
RATELIMIT_ENABLE = env_bool("RATE_LIMITS_ENABLED", True)
RATE_LIMIT_MESSAGES_PER_IP = env_rate("RATE_LIMIT_MESSAGES_PER_IP", "60/m")
RATE_LIMIT_MESSAGES_PER_CONVERSATION = env_rate("RATE_LIMIT_MESSAGES_PER_CONVERSATION", "20/m")
RATE_LIMIT_READS_PER_IP = env_rate("RATE_LIMIT_READS_PER_IP", "120/m")
RATE_LIMIT_READS_PER_CONVERSATION = env_rate("RATE_LIMIT_READS_PER_CONVERSATION", "30/m")
RATE_LIMIT_FEEDBACK_PER_IP = env_rate("RATE_LIMIT_FEEDBACK_PER_IP", "60/m")
RATE_LIMIT_FEEDBACK_PER_CONVERSATION = env_rate("RATE_LIMIT_FEEDBACK_PER_CONVERSATION", "30/m")
RATE_LIMIT_LEADS_PER_CONVERSATION = env_rate("RATE_LIMIT_LEADS_PER_CONVERSATION", "5/m")
# Lookups of unknown conversation ids per IP (REST and WebSocket resumes): guesses.
RATE_LIMIT_RESUME_MISSES_PER_IP = env_rate("RATE_LIMIT_RESUME_MISSES_PER_IP", "60/h")
# Failed admin logins in sliding windows: per IP, and per username from one IP (so
# failures from elsewhere never lock a user out).
RATE_LIMIT_ADMIN_LOGIN_PER_IP = env_rate("RATE_LIMIT_ADMIN_LOGIN_PER_IP", "20/15m")
RATE_LIMIT_ADMIN_LOGIN_PER_USERNAME = env_rate("RATE_LIMIT_ADMIN_LOGIN_PER_USERNAME", "5/15m")
# Open WebSockets per client IP, across every web process (0: no cap).
WEBSOCKET_CONNECTIONS_PER_IP = env_int("WEBSOCKET_CONNECTIONS_PER_IP", 30, minimum=0)
# Prompt + completion tokens a chat model may spend (0: no cap). Past a cap the
# extractive provider answers instead, quoting the knowledge base at no cost; past
# the per-IP cap, for that address only.
LLM_TOKENS_PER_CONVERSATION = env_int("LLM_TOKENS_PER_CONVERSATION", 60_000, minimum=0)
LLM_TOKENS_PER_IP_PER_DAY = env_int("LLM_TOKENS_PER_IP_PER_DAY", 200_000, minimum=0)
LLM_TOKENS_PER_DAY = env_int("LLM_TOKENS_PER_DAY", 2_000_000, minimum=0)

# --- Web server processes ------------------------------------------------------------------

# Gunicorn's worker count (Gunicorn reads it itself; gunicorn.conf.py sets it to the real
# count at start). More than one needs REDIS_URL: the start refuses otherwise (chatbot.E002).
WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", 1, minimum=1)
# Seconds a connection gets to send its request headers, WebSocket upgrades included: the
# handshake timeout of the project's Uvicorn worker (core.uvicorn_worker; 0: none).
REQUEST_HEADERS_TIMEOUT = env_float("REQUEST_HEADERS_TIMEOUT", 10.0, minimum=0.0)

# --- Leads and the Google Sheets mirror ---------------------------------------------

LEADS_DEFAULT_REGION = env_str("LEADS_DEFAULT_REGION", "US").upper()
SHEETS_CREDENTIALS_FILE = env_str("SHEETS_CREDENTIALS_FILE")
SHEETS_CREDENTIALS_JSON = env_str("SHEETS_CREDENTIALS_JSON")
SHEETS_SPREADSHEET_ID = env_str("SHEETS_SPREADSHEET_ID")
SHEETS_WORKSHEET = env_str("SHEETS_WORKSHEET", "Leads")
SHEETS_TIMEOUT = env_float("SHEETS_TIMEOUT", 10.0, minimum=0.1)
# Where the Sheets v4 API lives; only tests (a loopback fake) and proxies change it.
SHEETS_API_BASE_URL = env_str("SHEETS_API_BASE_URL", "https://sheets.googleapis.com")
# Failed pushes and notifications retry after RETRY_BASE * 2**(attempt-1) seconds
# (capped at RETRY_MAX, and never sooner than a 429's Retry-After), then give up
# as "failed" after MAX_ATTEMPTS; `manage.py sync_leads` pushes those again.
LEADS_SYNC_MAX_ATTEMPTS = env_int("LEADS_SYNC_MAX_ATTEMPTS", 12, minimum=1)
LEADS_SYNC_RETRY_BASE = env_float("LEADS_SYNC_RETRY_BASE", 30.0, minimum=0.01)
LEADS_SYNC_RETRY_MAX = env_float("LEADS_SYNC_RETRY_MAX", 3600.0, minimum=0.01)
LEADS_NOTIFY_EMAILS = env_list("LEADS_NOTIFY_EMAILS")
LEADS_WEBHOOK_URL = env_str("LEADS_WEBHOOK_URL")
LEADS_WEBHOOK_SECRET = env_str("LEADS_WEBHOOK_SECRET")
LEADS_WEBHOOK_TIMEOUT = env_float("LEADS_WEBHOOK_TIMEOUT", 10.0, minimum=0.1)
# django-ratelimit rate for the public POST /api/leads/, per client IP.
LEADS_API_RATE = env_rate("LEADS_API_RATE", "10/m")

# --- Privacy ----------------------------------------------------------------------------

# Visitor conversations (and their messages) whose last message is older than this
# many days are purged every hour by a self-rescheduling task, or by
# `manage.py purge_conversations` from cron. 0 or empty: kept forever. Leads stay.
CONVERSATION_RETENTION_DAYS = env_int("CONVERSATION_RETENTION_DAYS", 0, minimum=0)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "assistant@localhost")

# --- Logging ---------------------------------------------------------------------------

LOG_FORMAT = env_choice("LOG_FORMAT", "text", {"text", "json"})
LOG_LEVEL = env_choice("LOG_LEVEL", "info", {"debug", "info", "warning", "error"}).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "core.structured_logging.ContextFilter"}},
    "formatters": {
        "text": {
            "()": "core.structured_logging.TextFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s conv=%(conversation_id)s] %(message)s",
        },
        "json": {"()": "core.structured_logging.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # faiss logs which CPU build it loads: noise at INFO.
        "faiss.loader": {"level": "WARNING"},
        # The servers' own loggers, once Django is set up in a server process: the same
        # format and masking as the app's lines instead of each server's own format.
        # (Access logs are left to the servers' flags.)
        **{
            name: {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "gunicorn.error", "daphne")
        },
    },
}
