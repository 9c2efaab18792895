"""bidcart settings: everything comes from the environment (django-environ).

The embedded default (`bidcart run`, no variables set) is SQLite under BIDCART_DATA_DIR, in-memory cache and
channel layer, jobs run in-process, payment providers pointed at the mounted simulator, mail to the
console. Setting DATABASE_URL / REDIS_URL moves the same code onto PostgreSQL, Redis and Celery.
"""

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from bidcart.auctions import conf as _auction_conf
from bidcart.core.datadir import ADMIN_PATH_FILE as _ADMIN_PATH_FILE
from bidcart.core.datadir import SECRET_KEY_FILE as _SECRET_KEY_FILE
from bidcart.core.datadir import STATIC_DIR as _STATIC_DIR
from bidcart.core.env import read as _read_environment
from bidcart.payments.providers import classes as _provider_classes

env = environ.Env()
# What the `bidcart` command and the deploy checks also read (bidcart/core/env.py): read there, with its
# defaults, once. Importing settings writes nothing: the data folder and its files are made by the commands
# that start bidcart (bidcart/core/datadir.py) and by the mounted simulator (its webhook secret).
_environment = _read_environment()

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = _environment.data_dir

DEBUG = _environment.debug


def _secret_key() -> str:
    """The environment's SECRET_KEY; with DEBUG on, the one `bidcart run` (or `bidcart manage` on the
    same data folder) generated into the data folder. Importing settings writes nothing."""
    if _environment.secret_key:
        return _environment.secret_key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    try:
        return (DATA_DIR / _SECRET_KEY_FILE).read_text().strip()
    except OSError:
        raise ImproperlyConfigured(
            f"SECRET_KEY is not set and {DATA_DIR} has no generated one: start with `bidcart run` (or "
            "`bidcart manage ...`), which makes one, or set SECRET_KEY."
        ) from None


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = (
    _environment.allowed_hosts if _environment.allowed_hosts is not None else ["localhost", "127.0.0.1", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"

# The real admin lives on a path only the operator knows; /admin/ is a honeypot.
ADMIN_PATH_FILE = DATA_DIR / _ADMIN_PATH_FILE


def _admin_path() -> str:
    """BIDCART_ADMIN_PATH, else the one `bidcart run`/`serve`/`manage` generated into the data folder. A
    process started another way on a folder without one (a Celery worker) serves no admin: it gets a
    random path of its own, written nowhere."""
    path = _environment.admin_path
    if not path:
        try:
            path = ADMIN_PATH_FILE.read_text().strip()
        except OSError:
            path = f"manage-{secrets.token_urlsafe(9)}"
    path = path.strip("/")
    if not path or path == "admin":
        raise ImproperlyConfigured("BIDCART_ADMIN_PATH must be a path other than 'admin'.")
    return path + "/"


ADMIN_PATH = _admin_path()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "corsheaders",
    "bidcart.core.axes_app.AxesConfig",  # django-axes, named in Korean in the admin
    "phonenumber_field",
    "bidcart.core",
    "bidcart.accounts",
    "bidcart.catalog",
    "bidcart.cart",
    "bidcart.orders",
    "bidcart.reviews",
    "bidcart.payments",
    "bidcart.subscriptions",
    "bidcart.auctions",
    "bidcart.web",
]

MIDDLEWARE = [
    "bidcart.core.middleware.RequestObserverMiddleware",  # request id, metrics, one log line per request
    "django.middleware.security.SecurityMiddleware",
    "bidcart.core.middleware.NoUrlListingMiddleware",  # DEBUG's 404 page would list every URL (the admin's too)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "bidcart.core.middleware.RateLimitedMiddleware",  # a rate limit no view answered: 429, not 500
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "bidcart.core.middleware.DatabaseUnavailableMiddleware",  # faults: 503, not 500, while the database is down
]

ROOT_URLCONF = "bidcart.urls"
ASGI_APPLICATION = "bidcart.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bidcart.cart.context_processors.cart",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------------
DATABASES = {"default": environ.Env.db_url_config(_environment.database_url or f"sqlite:///{_environment.sqlite_path}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web server and the job loop write without "database is locked";
    # IMMEDIATE transactions take the write lock up front, SQLite's stand-in for a row lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    # HTTP requests run on a fixed pool of threads (HTTP_THREADS, asgi.py): each keeps its connection
    # for a minute instead of opening one per request.
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, Celery -------------------------------------------------------
REDIS_URL = _environment.redis_url
if REDIS_URL:
    from redis.exceptions import ConnectionError as _RedisConnectionError

    # Faults: Django's RedisCache turns a Redis restart into 500s everywhere; this one degrades (core/cache.py).
    CACHES = {"default": {"BACKEND": "bidcart.core.cache.DegradingRedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 defaults socket_timeout to 5 s, which aborts the channel layer's blocking
            # BZPOPMIN and tears every idle WebSocket down (django/channels_redis#422).
            # Faults: after a Redis restart the pool's old connections fail once each ("Connection closed by
            # server"), refusing WebSockets; one retry on a fresh connection instead.
            # capacity: messages waiting for one process before channels_redis drops them (default 100).
            # A bid storm on a busy room outran that in the fault tests (tests/services/test_faults.py).
            # max_connections: redis-py 8 caps a pool at 100 connections and raises "Too many connections"
            # past it; a process whose 250 viewers join or leave at once needs more than that for a moment.
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": None,
                        "retry_on_error": [_RedisConnectionError],
                        "max_connections": env.int("CHANNEL_LAYER_MAX_CONNECTIONS", default=1000),
                    }
                ],
                "capacity": env.int("CHANNEL_LAYER_CAPACITY", default=5000),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# This process's memory in front of the shared cache, for the catalog's entries and page fragments under
# keys that name the catalog's version (catalog/cache.py says why a copy there cannot go stale).
CACHES["local"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "bidcart-local",
    "OPTIONS": {"MAX_ENTRIES": 5000},
}

# Jobs: "inprocess" runs the sweeps from a loop inside `bidcart run`; "celery" leaves them to beat.
BIDCART_JOBS = env.str("BIDCART_JOBS", default="celery" if REDIS_URL else "inprocess")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"

# --- Auth ------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "bidcart.accounts.backends.LoginRateLimitBackend",  # first: counts every attempt, even a locked-out one
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 24)

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "bidcart.accounts.lockout.attempted_username"
AXES_CLIENT_IP_CALLABLE = "bidcart.core.http.client_ip"
AXES_LOCKOUT_CALLABLE = "bidcart.accounts.lockout.lockout_response"
HONEYPOT_MAX_ATTEMPTS = env.int("HONEYPOT_MAX_ATTEMPTS", default=5)
HONEYPOT_WINDOW_HOURS = env.int("HONEYPOT_WINDOW_HOURS", default=24)
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

PHONENUMBER_DEFAULT_REGION = "KR"
PHONENUMBER_DB_FORMAT = "E164"

# Phone one-time codes, SMS delivery (console by default; Naver Cloud SENS for real phones).
SMS_BACKEND = env.str("SMS_BACKEND", default="bidcart.accounts.sms.ConsoleSMSBackend")
SENS_ACCESS_KEY = env.str("SENS_ACCESS_KEY", default="")
SENS_SECRET_KEY = env.str("SENS_SECRET_KEY", default="")
SENS_SERVICE_ID = env.str("SENS_SERVICE_ID", default="")
SENS_SENDER = env.str("SENS_SENDER", default="")
SENS_BASE_URL = env.str("SENS_BASE_URL", default="https://sens.apigw.ntruss.com")
OTP_TTL_SECONDS = 180
OTP_MAX_ATTEMPTS = 5
OTP_RESEND_SECONDS = env.int("OTP_RESEND_SECONDS", default=60)
VERIFICATION_RESEND_SECONDS = env.int("VERIFICATION_RESEND_SECONDS", default=60)

# --- Store -----------------------------------------------------------------------------------
ORDER_PAYMENT_WINDOW_MINUTES = env.int("ORDER_PAYMENT_WINDOW_MINUTES", default=30)
ORDER_SHIPPING_FEE = env.int("ORDER_SHIPPING_FEE", default=3000)  # KRW
ORDER_FREE_SHIPPING_FROM = env.int("ORDER_FREE_SHIPPING_FROM", default=50000)  # KRW
ORDER_AUTO_CONFIRM_DAYS = env.int("ORDER_AUTO_CONFIRM_DAYS", default=7)  # 구매확정 this long after delivery

# --- Auctions --------------------------------------------------------------------------------
# The defaults (and what each means) and the increment tables live in bidcart/auctions/conf.py, once;
# these may come from the environment.
_AUCTION = _auction_conf.DEFAULTS
AUCTION_SOFT_CLOSE_SECONDS = env.int("AUCTION_SOFT_CLOSE_SECONDS", default=_AUCTION["AUCTION_SOFT_CLOSE_SECONDS"])
AUCTION_PAYMENT_HOURS = env.int("AUCTION_PAYMENT_HOURS", default=_AUCTION["AUCTION_PAYMENT_HOURS"])
AUCTION_SECOND_CHANCE_HOURS = env.int("AUCTION_SECOND_CHANCE_HOURS", default=_AUCTION["AUCTION_SECOND_CHANCE_HOURS"])
AUCTION_SHIPPING_FEE = env.int("AUCTION_SHIPPING_FEE", default=_AUCTION["AUCTION_SHIPPING_FEE"])
AUCTION_STRIKES_TO_BLOCK = env.int("AUCTION_STRIKES_TO_BLOCK", default=_AUCTION["AUCTION_STRIKES_TO_BLOCK"])
AUCTION_BLOCK_DAYS = env.int("AUCTION_BLOCK_DAYS", default=_AUCTION["AUCTION_BLOCK_DAYS"])
AUCTION_EMAIL_NOTICES = env.list("AUCTION_EMAIL_NOTICES", default=list(_AUCTION["AUCTION_EMAIL_NOTICES"]))

# --- REST API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "bidcart.accounts.jwt.JWTAuthentication",  # simplejwt's, refusing tokens older than the password
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "bidcart.core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "bidcart.core.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "bidcart.core.errors.api_exception_handler",
    "DEFAULT_PARSER_CLASSES": ["bidcart.core.parsers.JSONParser", "rest_framework.parsers.FormParser"],
}
SIMPLE_JWT = {
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "bidcart API",
    "DESCRIPTION": "Store, live auctions and payments. Money is integer minor units plus an ISO currency.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files: works offline and under our CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # several models have a `status`: name each choice set after its model
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "bidcart.orders.models.Status",
        "PaymentStatusEnum": "bidcart.payments.models.Status",
        "PaymentProviderEnum": "bidcart.payments.models.Provider",
        "RefundStatusEnum": "bidcart.payments.models.Refund.Status",
        "WebhookStateEnum": "bidcart.payments.models.WebhookDelivery.State",
        "SubscriptionIntervalEnum": "bidcart.subscriptions.models.Interval",
        "SubscriptionStateEnum": "bidcart.subscriptions.models.Subscription.State",
        "SubscriptionCycleStateEnum": "bidcart.subscriptions.models.Cycle.State",
    },
}

# --- Security --------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        # Daum postcode search; the payment providers' browser SDKs, windows and redirects (form-action
        # also governs where a form's redirect may lead, e.g. to KakaoPay's or PayPal's page).
        # Each enabled provider adds its own origins (its class's `csp`), below.
        "script-src": ["'self'", "https://t1.daumcdn.net", "https://postcode.map.daum.net"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'", "ws:", "wss:"],
        "frame-src": ["'self'", "https://postcode.map.daum.net"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
    }
}

# --- Rate and size limits (bidcart/core/ratelimit.py; README "Configuration") ----------------------
# Rules like "10/h" or "10/s,120/min" (units s, min, h, d; "5/10s" is 5 per 10 seconds); every rule must
# hold; "off" turns a limit off. Counted in the cache: Redis, shared by every process, at scale.
RATE_LIMIT_SIGNUP = env.str("RATE_LIMIT_SIGNUP", default="10/h")  # sign-ups per client address
RATE_LIMIT_LOGIN = env.str(
    "RATE_LIMIT_LOGIN", default="20/min"
)  # logins per client address (django-axes locks accounts)
RATE_LIMIT_EMAIL = env.str("RATE_LIMIT_EMAIL", default="30/h")  # verification / reset emails asked per client address
RATE_LIMIT_OTP = env.str("RATE_LIMIT_OTP", default="5/h")  # phone codes texted per user (besides OTP_RESEND_SECONDS)
RATE_LIMIT_BID = env.str("RATE_LIMIT_BID", default="10/s,120/min")  # bids per user: bursts of 10, 2 a second sustained
RATE_LIMIT_CHAT = env.str("RATE_LIMIT_CHAT", default="5/10s")  # chat messages per user and lot
# Frames on one WebSocket connection: over the first limit they are answered `rate_limited` and dropped;
# over the second the server closes the connection with code 4429.
RATE_LIMIT_WS_MESSAGES = env.str("RATE_LIMIT_WS_MESSAGES", default="10/s")
RATE_LIMIT_WS_CLOSE = env.str("RATE_LIMIT_WS_CLOSE", default="30/s")
# WebSocket connections opened per client address (generous: many phones share one carrier address)
RATE_LIMIT_WS_CONNECT = env.str("RATE_LIMIT_WS_CONNECT", default="30/10s,300/min")
# Payment webhooks refused (bad signature, not the provider's format) per sender address: past it, that
# address's deliveries are answered 429 without being stored. A provider's own (verified) deliveries never
# count, so every legitimate one is still stored however many come.
RATE_LIMIT_WEBHOOK_REJECTED = env.str("RATE_LIMIT_WEBHOOK_REJECTED", default="10/min,60/h")
# Largest payment webhook body (the providers' are a few KB): 413 above it, before anything is stored.
WEBHOOK_MAX_BYTES = env.int("WEBHOOK_MAX_BYTES", default=64 * 1024)
# Largest WebSocket message: uvicorn (`bidcart run` / `serve`) closes a connection sending more with 1009.
WS_MAX_MESSAGE_BYTES = env.int("WS_MAX_MESSAGE_BYTES", default=64 * 1024)
# Threads per server process that run HTTP requests (asgi.py). Requests that wait on a provider or the
# database no longer hold up the rest of the process; SQLite takes one writer at a time whatever the count.
HTTP_THREADS = env.int("HTTP_THREADS", default=8)
# Largest request body: JSON and form fields (413 above it) ...
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# ... and a whole multipart upload (image files included), refused with 413 before it is read; nginx's
# client_max_body_size (deploy/nginx.conf) is the same 64m.
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=64 * 1024 * 1024)

# --- Email -----------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
if EMAIL_CONFIG.get("EMAIL_BACKEND") == "django.core.mail.backends.console.EmailBackend":
    EMAIL_CONFIG["EMAIL_BACKEND"] = "bidcart.core.consolemail.ReadableConsoleBackend"  # decoded, not raw MIME
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="bidcart <no-reply@bidcart.local>")

# --- Language and time -----------------------------------------------------------------------
LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Seoul"  # what people see; the database stores UTC

# --- Static and uploads ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / _STATIC_DIR  # made with the data folder: whitenoise warns without it
# Serve straight from the apps' static folders unless collectstatic has been run for production.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},  # see "Media storage" below
    # Collected for production (`bidcart serve`): hashed names, served as immutable (core/staticfiles.py).
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if WHITENOISE_USE_FINDERS
        else "bidcart.core.staticfiles.HashedStaticFilesStorage"
    },
}
WHITENOISE_AUTOREFRESH = DEBUG

# --- Payment simulator (mounted at /pgsim/ by `bidcart run`) ---------------------------------
# On by default only with DEBUG; `bidcart serve` refuses it without PGSIM_ACKNOWLEDGE (core/deploy_checks.py).
PGSIM_MOUNT = _environment.pgsim_mount
PGSIM_ACKNOWLEDGED = _environment.pgsim_acknowledged

# --- Payments ---------------------------------------------------------------------------------
# The shop's public base URL: return and webhook URLs are built from it (empty: from each request;
# `bidcart run` sets it). Providers left without a base URL talk to the simulator at PGSIM_URL
# (empty: the one mounted at SITE_URL/pgsim), with the simulator's own test credentials.
SITE_URL = _environment.site_url
PGSIM_URL = _environment.pgsim_url
PAYMENT_PROVIDERS = _environment.payment_providers
# The pay page offers payment types (카드, 카카오페이, 무통장입금/가상계좌, PayPal), not PGs: this names the PortOne
# version behind 카드 and 무통장입금 (empty: portone_v2 if enabled, else portone). The API still takes any provider.
PAYMENT_CARD_PROVIDER = env.str("PAYMENT_CARD_PROVIDER", default="")
if PAYMENT_CARD_PROVIDER and PAYMENT_CARD_PROVIDER not in ("portone", "portone_v2"):
    raise ImproperlyConfigured("PAYMENT_CARD_PROVIDER must be portone or portone_v2 (or empty).")
if PAYMENT_CARD_PROVIDER and PAYMENT_CARD_PROVIDER not in PAYMENT_PROVIDERS:
    raise ImproperlyConfigured(f"PAYMENT_CARD_PROVIDER={PAYMENT_CARD_PROVIDER} is not in PAYMENT_PROVIDERS.")
PAYMENT_TIMEOUT_SECONDS = env.float("PAYMENT_TIMEOUT_SECONDS", default=10.0)
# A payment still open this long is fetched from its provider and settled by the reconciliation sweep;
# one the buyer abandoned (still unpaid after the order's window) is cancelled at the provider.
PAYMENT_RECONCILE_AFTER_MINUTES = env.int("PAYMENT_RECONCILE_AFTER_MINUTES", default=10)
# Subscriptions (정기배송): a cycle is charged at this hour (Seoul) of its date; a declined charge is retried
# this many days after the first decline, then the subscription pauses; "renews soon" goes out this early.
SUBSCRIPTION_CHARGE_HOUR = 9
SUBSCRIPTION_RETRY_DAYS = (1, 3)
SUBSCRIPTION_REMINDER_DAYS = 3
# An order paid by bank deposit stays reserved until the virtual account's deadline, at most this long.
PAYMENT_VBANK_MAX_HOURS = env.int("PAYMENT_VBANK_MAX_HOURS", default=72)
# A payment the shop closed without money (cancel landing, failed, expired) and started this recently is
# still read from its provider by the sweep: a late approval or a deposit into an expired account is
# then settled (the order takes it, or it is refunded). Longer than the longest deposit deadline.
PAYMENT_RECHECK_CLOSED_HOURS = env.int("PAYMENT_RECHECK_CLOSED_HOURS", default=96)
# One dict per provider (KAKAOPAY, PORTONE, PORTONE_V2, PAYPAL), from <KEY>_<OPTION> variables: the
# options, their defaults and what each means are on the provider's class (payments/providers/).
for _name, _cls in _provider_classes().items():
    globals()[_cls.settings_key] = _environment.providers[_name]
    if _name in PAYMENT_PROVIDERS:
        for _directive, _origins in _cls.csp.items():
            CONTENT_SECURITY_POLICY["DIRECTIVES"][_directive].extend(
                o for o in _origins if o not in CONTENT_SECURITY_POLICY["DIRECTIVES"][_directive]
            )
if PGSIM_URL:  # a simulator on another origin serves the payment pages and browser SDKs
    _origin = "/".join(PGSIM_URL.split("/")[:3])
    for _directive in ("script-src", "form-action", "frame-src", "connect-src"):
        CONTENT_SECURITY_POLICY["DIRECTIVES"][_directive].append(_origin)

# --- Logs ------------------------------------------------------------------------------------
from bidcart.core.logs import logging_config  # noqa: E402  (no Django imports in it)

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
# "json": one JSON object per line (requests, sweeps, everything else); "text": for people at a console.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json").lower()

LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)

# --- Metrics (/metrics, Prometheus) ----------------------------------------------------------
# Allowed from these addresses or networks (the client address as NUM_PROXIES reads it), or from
# anywhere with `Authorization: Bearer METRICS_TOKEN`.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- Media storage (uploads: product and lot pictures with their renditions) ------------------------
# Local files under DATA_DIR/media by default, served by bidcart at /media/ (core/media.py); S3-compatible
# object storage with MEDIA_STORAGE_URL=s3://… or AWS_STORAGE_BUCKET_NAME (core/storage.py, deploy/README.md).
from bidcart.core import storage as _media  # noqa: E402  (no Django imports in it)

try:
    _MEDIA = _media.from_environ(env, DATA_DIR)
except ValueError as _error:
    raise ImproperlyConfigured(str(_error)) from None
STORAGES["default"] = _MEDIA.storage
MEDIA_URL = _MEDIA.url
MEDIA_ROOT = _MEDIA.root
MEDIA_SERVE = env.bool("MEDIA_SERVE", default=_MEDIA.serve_locally)  # 0: nginx (or a CDN) answers /media/
CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] += _MEDIA.origins
