"""gongwen settings: everything that differs between machines comes from the environment.

See README.md for the variables. The defaults run the app on one machine with
SQLite, in-process rendering and DEBUG on, which is what `scripts/run --dev` wants;
`scripts/run` itself serves with DEBUG off and the keys it keeps under VAR_DIR (config/serve.py).
"""

import datetime
import os
from pathlib import Path

import dj_database_url
import dj_email_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


def envbool(name, default):
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envnumber(name, default):
    value = os.environ.get(name, default)
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, not {value!r}") from None
    if number <= 0:
        raise ImproperlyConfigured(f"{name} must be positive, not {value!r}")
    return number


def envlist(name, default):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "true")
SECRET_KEY = env("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var")))
if "DATABASE_URL" not in os.environ:
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded default keeps its SQLite file here
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'gongwen.sqlite3'}"),
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Row locks do not exist on SQLite; IMMEDIATE transactions serialise writers instead.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"transaction_mode": "IMMEDIATE", "timeout": 20})
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Short queries of a web app: compiling one with JIT costs more than it saves (measured at
    # 1,000,000 documents: a second of JIT for a list that runs in 20 ms; docs/benchmarks.md).
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")

MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: every file goes through a permission-checked view
STORAGES = {
    # Writes to a temporary name, fsyncs and links into place: no truncated file on a full disk.
    "default": {"BACKEND": "issuance.storage.DurableFileSystemStorage"},
    # Served by whitenoise, as collected: not under content-hashed names (viewflow's CSS names
    # fonts it does not ship, which the manifest storage refuses), and not compressed ahead
    # (that would take minutes of each start for viewflow's 55 MB, which no page uses).
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "static")))
# While DEBUG is on, whitenoise finds static files where the apps keep them, as runserver does;
# with it off, only what collectstatic put into STATIC_ROOT, read once at start.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "axes",
    "csp",
    "viewflow",
    "viewflow.workflow",
    "issuance",
    "workflows",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, before anything reads a session
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.frame_pdfs_in_own_pages",  # inside the two above, so that it answers first
    "config.middleware.explain_method_not_allowed",  # inside CSP too: its page carries the nonce
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        # The pages and mails (templates/): Jinja2, config.templating says why. The PDF's
        # templates (templates/issuance/pdf/) have an engine of their own
        # (issuance.render.layout) and are never looked up through these.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "config.templating.environment",
            "context_processors": [
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "workflows.context_processors.navigation",
            ],
        },
    },
    {
        # Django's admin and the forms' widgets.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before the password is checked
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "issuance.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login lockout (django-axes): 5 failures for one user name from one address lock that pair
# for 15 minutes; the organ's 机关管理员 unlocks earlier (/lockouts/), a superuser in /admin/.
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(env("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# HTTPS (README: 生产部署). With DEBUG off the defaults are those of production; each can be
# turned off for a deployment that needs it, at the price of a `check --deploy` warning.
https_default = "false" if DEBUG else "true"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", https_default)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", https_default)
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", https_default)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", https_default)
if envbool("SECURE_PROXY_SSL_HEADER", "false"):
    # Behind a proxy that terminates HTTPS and sets X-Forwarded-Proto (and strips the client's).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# No page is ever framed; the PDFs, which our pages show in an <iframe>, may be framed by
# our own origin (config.middleware).
X_FRAME_OPTIONS = "DENY"
# The pages' own <style> and <script> blocks carry the request's nonce. Style attributes are
# allowed: they cannot run script or select elements (so cannot leak what a page shows).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

GUARDIAN_RAISE_403 = True
ANONYMOUS_USER_NAME = None

# The history's tamper evidence (docs/tamper-evidence.md). The HMAC key is never stored in
# the database; without the variable, DEBUG keeps a generated one in VAR_DIR/history.key.
GONGWEN_HISTORY_KEY = env("GONGWEN_HISTORY_KEY", "")
GONGWEN_HISTORY_OLD_KEYS = envlist("GONGWEN_HISTORY_OLD_KEYS", "")
if any(len(key) < 32 for key in [GONGWEN_HISTORY_KEY, *GONGWEN_HISTORY_OLD_KEYS] if key):
    raise ImproperlyConfigured("GONGWEN_HISTORY_KEY and GONGWEN_HISTORY_OLD_KEYS need at least 32 characters each")
if not GONGWEN_HISTORY_KEY and not DEBUG:
    raise ImproperlyConfigured("GONGWEN_HISTORY_KEY must be set when DEBUG is off (see docs/tamper-evidence.md)")
GONGWEN_ANCHOR_DIR = Path(env("GONGWEN_ANCHOR_DIR", str(VAR_DIR / "anchors")))
GONGWEN_TSA_URL = env("GONGWEN_TSA_URL", "")
GONGWEN_TSA_CERT = env("GONGWEN_TSA_CERT", "")
GONGWEN_TSA_TIMEOUT = int(env("GONGWEN_TSA_TIMEOUT", "10"))

# The organ's digital signature on its issued PDFs (docs/signing.md). Keys are never in the
# database: each organ's PKCS#12 is GONGWEN_SIGNING_P12_<全宗号>, else <全宗号>.p12 in
# GONGWEN_SIGNING_DIR; its passphrase GONGWEN_SIGNING_PASSPHRASE_<全宗号>, else
# GONGWEN_SIGNING_PASSPHRASE; the CAs signatures must chain to, GONGWEN_SIGNING_CA (PEM),
# else ca.pem in GONGWEN_SIGNING_DIR. An organ without a key issues unsigned PDFs.
GONGWEN_SIGNING_DIR = Path(env("GONGWEN_SIGNING_DIR", str(VAR_DIR / "signing")))
GONGWEN_SIGNING_CA = env("GONGWEN_SIGNING_CA", "")
GONGWEN_SIGNING_P12 = {name.removeprefix("GONGWEN_SIGNING_P12_"): value for name, value in os.environ.items()
                       if name.startswith("GONGWEN_SIGNING_P12_") and value}
GONGWEN_SIGNING_PASSPHRASE = env("GONGWEN_SIGNING_PASSPHRASE", "")
GONGWEN_SIGNING_PASSPHRASES = {name.removeprefix("GONGWEN_SIGNING_PASSPHRASE_"): value
                               for name, value in os.environ.items()
                               if name.startswith("GONGWEN_SIGNING_PASSPHRASE_")}

# The organ the demo and new users belong to when none is given.
GONGWEN_DEFAULT_ORGAN_CODE = env("GONGWEN_DEFAULT_ORGAN_CODE", "泉科")

# Where 印制 renders PDFs: "thread" (in the web process), "celery" (workers, Redis broker) or
# "inline" (in the request itself). With CELERY_BROKER_URL set, the default is "celery".
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "")
GONGWEN_RENDER_BACKEND = env("GONGWEN_RENDER_BACKEND", "celery" if CELERY_BROKER_URL else "thread")
if GONGWEN_RENDER_BACKEND not in ("thread", "celery", "inline"):
    raise ImproperlyConfigured("GONGWEN_RENDER_BACKEND must be thread, celery or inline")
if GONGWEN_RENDER_BACKEND == "celery" and not CELERY_BROKER_URL:
    raise ImproperlyConfigured("GONGWEN_RENDER_BACKEND=celery needs CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0")
# A print job's worker holds it by a lease renewed every third of it; every web process and
# Celery worker sweeps for jobs whose lease ran out (their worker died) this often, so that
# such a job is taken up again within lease + poll seconds.
GONGWEN_PRINT_LEASE_SECONDS = envnumber("GONGWEN_PRINT_LEASE_SECONDS", "30")
GONGWEN_PRINT_POLL_SECONDS = envnumber("GONGWEN_PRINT_POLL_SECONDS", "10")
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "gongwen")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# E-mail of notices: EMAIL_URL (e.g. smtp+tls://user:password@smtp.example.cn:587), or the
# separate EMAIL_* variables; by default mail is written to the console.
if env("EMAIL_URL"):
    vars().update(dj_email_url.parse(env("EMAIL_URL")))
else:
    EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    EMAIL_HOST = env("EMAIL_HOST", "localhost")
    EMAIL_PORT = int(env("EMAIL_PORT", "25"))
    EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "false")
EMAIL_TIMEOUT = int(env("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "公文办理 <gongwen@localhost>")
# Where notice mail is sent from: "thread" (the web process, after commit), "inline" or "off"
# (only `manage.py send_mail`, e.g. from cron). See issuance/mailer.py.
GONGWEN_MAIL_SENDER = env("GONGWEN_MAIL_SENDER", "thread")
if GONGWEN_MAIL_SENDER not in ("thread", "inline", "off"):
    raise ImproperlyConfigured("GONGWEN_MAIL_SENDER must be thread, inline or off")
# With "thread", every web process also sends what is due this often: mail that waited for a
# mail server that was down goes out once it is back (config/outbox.py).
GONGWEN_MAIL_POLL_SECONDS = envnumber("GONGWEN_MAIL_POLL_SECONDS", "60")
# The address of the app as mail links to it, e.g. https://gongwen.example.cn
GONGWEN_SITE_URL = env("GONGWEN_SITE_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}
