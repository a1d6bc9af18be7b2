"""Configuration read from NORMHUB_* environment variables.

Development needs no settings at all: the database is a SQLite file under
``instance/`` and a secret key is generated there on first run. Production
(``NORMHUB_ENV=production``) refuses to start without an explicit secret key.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import timedelta
from pathlib import Path

# A page's form token works this long after the page was served: a page left
# open overnight asks to be sent again (keeping what was typed), see error_pages.
# The checkout: templates, static files, migrations and the default instance folder.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

CSRF_TIME_LIMIT_SECONDS = 12 * 3600


class ConfigurationError(RuntimeError):
    """Raised when the app cannot start safely with the given environment."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"NORMHUB_{name}")
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"NORMHUB_{name} must be a whole number, got {raw!r}") from exc


def host_name() -> str:
    """This machine's name in what other hosts read (the digest's claims): unique per machine.

    The machine's host name unless NORMHUB_HOST_NAME names it otherwise (two
    containers sharing a host name, or tests playing two hosts on one).
    """
    return _env("HOST_NAME") or socket.gethostname()


def _proxy_hops() -> int:
    hops = _env_int("PROXY_HOPS", 0)
    if hops < 0:
        raise ConfigurationError(f"NORMHUB_PROXY_HOPS must be 0 or more, got {hops}")
    return hops


def _secret_key(instance_path: Path, production: bool) -> str:
    configured = _env("SECRET_KEY")
    if configured:
        return configured
    if production:
        raise ConfigurationError(
            "NORMHUB_SECRET_KEY is not set. In production the secret key signs sessions, "
            "CSRF tokens and unsubscribe links, so it must be set explicitly and kept "
            "stable across restarts, e.g. NORMHUB_SECRET_KEY=$(python -c "
            "'import secrets; print(secrets.token_hex(32))')"
        )
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _session_days() -> tuple[int, int]:
    idle = _env_int("SESSION_IDLE_DAYS", 14)
    absolute = _env_int("SESSION_MAX_DAYS", 60)
    if idle < 1 or absolute < idle:
        raise ConfigurationError(
            "NORMHUB_SESSION_IDLE_DAYS must be at least 1 and at most NORMHUB_SESSION_MAX_DAYS"
        )
    return idle, absolute


def load_config(instance_path: str) -> dict:
    instance = Path(instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    env = _env("ENV", "development")
    production = env == "production"
    idle_days, max_days = _session_days()
    return {
        "ENV_NAME": env,
        "SECRET_KEY": _secret_key(instance, production),
        "DATABASE_URL": _env("DATABASE_URL", f"sqlite:///{instance / 'normhub.sqlite3'}"),
        # Which search backend indexes and searches: "postgres" (in the database) or
        # "whoosh" (a file index per server). Unset: postgres on PostgreSQL, else whoosh.
        "SEARCH_BACKEND": _env("SEARCH_BACKEND"),
        "SEARCH_INDEX_DIR": _env("SEARCH_INDEX_DIR", str(instance / "search-index")),
        # PostgreSQL search: more matches than this are counted from a sample ("about").
        "SEARCH_EXACT_COUNT_UP_TO": _env_int("SEARCH_EXACT_COUNT_UP_TO", 2000),
        # Off only for bulk imports; run `flask search rebuild` afterwards.
        "SEARCH_INDEXING": _env("SEARCH_INDEXING", "1") != "0",
        "OUTBOX_DIR": _env("OUTBOX_DIR", str(instance / "outbox")),
        "BASE_URL": _env("BASE_URL", "http://127.0.0.1:5000"),
        # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
        "PROXY_HOPS": _proxy_hops(),
        "SMTP_HOST": _env("SMTP_HOST"),
        "SMTP_PORT": _env_int("SMTP_PORT", 587),
        "SMTP_SECURITY": _env("SMTP_SECURITY", "starttls"),  # starttls | ssl | none
        "SMTP_USER": _env("SMTP_USER"),
        "SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "SMTP_TIMEOUT": _env_int("SMTP_TIMEOUT", 20),
        "MAIL_FROM": _env("MAIL_FROM", "NormHub <digest@normhub.invalid>"),
        # Queued mail: the first retry waits this long, each later one twice the last.
        "MAIL_RETRY_SECONDS": _env_int("MAIL_RETRY_SECONDS", 60),
        "MAIL_MAX_ATTEMPTS": _env_int("MAIL_MAX_ATTEMPTS", 10),
        # The job queue: a SQLite file by default, redis://host:port/db in production.
        "JOBS_URL": _env("JOBS_URL", f"sqlite:///{instance / 'jobs.sqlite3'}"),
        "JOBS_NAME": _env("JOBS_NAME", "normhub"),
        "JOBS_WORKERS": _env_int("JOBS_WORKERS", 2),
        # Rate limits count in this process's memory unless a Redis server is named,
        # which several processes and servers then share.
        "RATELIMIT_ENABLED": _env("RATE_LIMITS", "1") != "0",
        "RATELIMIT_STORAGE_URI": _env("REDIS_URL") or "memory://",
        "RATELIMIT_KEY_PREFIX": _env("RATE_LIMIT_PREFIX", "normhub"),
        # No X-RateLimit-* headers: they cost a second storage read (a Redis round trip)
        # on every limited answer. A 429 carries its own Retry-After (normhub.ratelimit).
        "RATELIMIT_HEADERS_ENABLED": False,
        # Shared storage that is down must not take the site down with it.
        "RATELIMIT_SWALLOW_ERRORS": True,
        # A login ends after this many days without a request, or this many after it began.
        "SESSION_IDLE_DAYS": idle_days,
        "SESSION_MAX_DAYS": max_days,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        # The cookie of a login lasts as long as the login may; the server ends it sooner.
        "PERMANENT_SESSION_LIFETIME": timedelta(days=max_days),
        # No Set-Cookie on every response just to push the cookie's expiry on.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": CSRF_TIME_LIMIT_SECONDS,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "PAGE_SIZE": _env_int("PAGE_SIZE", 20),
        # Visitors' pages, kept until what they show changes (normhub/pagecache): in this
        # machine's memory, or in Redis (shared by every server) when one is named.
        "PAGE_CACHE": _env("PAGE_CACHE", "1") != "0",
        "PAGE_CACHE_URL": _env("REDIS_URL"),
        "PAGE_CACHE_PREFIX": _env("PAGE_CACHE_PREFIX", "normhub"),
        # Pages say "3 minutes ago": a kept page is at most this much behind the clock.
        "PAGE_CACHE_SECONDS": _env_int("PAGE_CACHE_SECONDS", 60),
        "PAGE_CACHE_BYTES": _env_int("PAGE_CACHE_MB", 64) * 1024 * 1024,
    }
