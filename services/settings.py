"""Configuration from the environment, as ``shared/contract.md`` lists it."""

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Literal

from services.persisted_documents.trusted import TrustedDocumentsError, load_trusted_documents
from services.rate_limits.budgets import RateLimits, parse_rate_limits

Environment = Literal["dev", "prod"]
LogFormat = Literal["json", "text"]
ExecutorKind = Literal["fast", "standard"]

# Above every query of the frontends, tests and benchmarks (the largest, 20
# doctors with a day of slots each, costs 28,861), below 100 doctors with a
# day of slots each (144,201). README "Limits".
DEFAULT_MAX_QUERY_COST = 50_000


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


@dataclass(frozen=True, slots=True)
class Settings:
    env: Environment
    database_url: str | None
    analytics_database_url: str | None
    # Reports run long on purpose, so their statements have a limit of their own.
    analytics_statement_timeout_ms: int
    redis_url: str | None
    s3_endpoint_url: str | None
    s3_bucket: str
    aws_region: str
    aws_access_key_id: str | None
    aws_secret_access_key: str | None
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_from: str | None
    twilio_base_url: str
    sendgrid_api_key: str | None
    sendgrid_from: str | None
    sendgrid_base_url: str
    # Base of the links put in e-mails (verification, password reset), no trailing slash.
    public_url: str
    data_dir: Path
    # Access and refresh tokens: the current signing key (a private JWK, JSON)
    # and any older public keys still accepted while tokens they signed live.
    jwt_private_key: str | None
    jwt_public_keys: str | None
    jwt_issuer: str
    jwt_audience: str
    # Medical record documents.
    max_upload_bytes: int
    document_url_seconds: int
    # The door (README "Limits" and "HTTP").
    max_body_bytes: int
    max_query_cost: int
    rate_limits: RateLimits
    trusted_proxies: tuple[str, ...]  # CIDRs whose X-Forwarded-For names the client
    cors_origins: tuple[str, ...]
    # Persisted queries and caching (README): the only documents that may run, by
    # SHA-256 (None: any), and how long public GETs may be cached.
    trusted_documents: Mapping[str, str] | None
    public_max_age_s: int
    # Live slots (README "Live slots"): open subscriptions per WebSocket, and per user
    # on one API process.
    max_subscriptions_per_connection: int
    max_subscriptions_per_user: int
    # Notifications: reminders this long before the start; retries of a failed
    # send wait base * 2**(attempt-1) seconds (with jitter), up to max attempts.
    reminder_offsets: tuple[timedelta, ...]
    notify_retry_base_seconds: float
    notify_max_attempts: int
    # A send's whole deadline (connect to last byte); a claim's lease outlasts it.
    notify_provider_timeout_seconds: float
    # How often each worker looks for due messages and claims left by dead workers.
    notify_rescan_seconds: int
    # Holds and the waitlist (README "Holds and the waitlist").
    hold_minutes: int
    offer_minutes: int
    # Operations (README "Operating it"): log lines, timeouts, pools, start-up.
    log_format: LogFormat
    statement_timeout_ms: int
    lock_timeout_ms: int
    idle_in_transaction_timeout_ms: int
    request_timeout_s: float
    max_concurrent_requests: int
    db_pool_size: int
    db_max_overflow: int
    redis_max_connections: int
    redis_timeout_ms: int
    s3_timeout_s: float
    startup_wait_s: float
    # How GraphQL fields run (schema/fast_executor/); MEDAPPT_EXECUTOR.
    executor: ExecutorKind = "fast"

    @property
    def is_prod(self) -> bool:
        return self.env == "prod"

    def with_servers(
        self, *, database_url: str | None, redis_url: str | None, s3_endpoint_url: str | None
    ) -> "Settings":
        """Fill the URLs that were unset with those of embedded servers."""
        return replace(
            self,
            database_url=self.database_url or database_url,
            redis_url=self.redis_url or redis_url,
            s3_endpoint_url=self.s3_endpoint_url or s3_endpoint_url,
            # moto accepts any credentials; botocore refuses to sign without some.
            aws_access_key_id=self.aws_access_key_id or (s3_endpoint_url and "medappt-dev"),
            aws_secret_access_key=self.aws_secret_access_key or (s3_endpoint_url and "medappt-dev"),
        )

    def require_database_url(self) -> str:
        if not self.database_url:
            raise ConfigError("DATABASE_URL is not set")
        return self.database_url

    def require_redis_url(self) -> str:
        if not self.redis_url:
            raise ConfigError("REDIS_URL is not set")
        return self.redis_url

    def require_servers(self) -> None:
        """Refuse to run without the servers every process needs."""
        self.require_database_url()
        self.require_redis_url()


_DATABASE_SCHEMES = ("postgresql://", "postgresql+asyncpg://", "postgres://")


def load_settings(environ: Mapping[str, str]) -> Settings:
    def get(name: str) -> str | None:
        value = environ.get(name, "").strip()
        return value or None

    env = get("MEDAPPT_ENV") or "dev"
    if env not in ("dev", "prod"):
        raise ConfigError(f"MEDAPPT_ENV must be 'dev' or 'prod', not {env!r}")
    db_pool_size = _positive_int(environ, "MEDAPPT_DB_POOL_SIZE", 20)
    database_url = get("DATABASE_URL")
    analytics_database_url = get("ANALYTICS_DATABASE_URL")
    for name, url in (
        ("DATABASE_URL", database_url),
        ("ANALYTICS_DATABASE_URL", analytics_database_url),
    ):
        if url and not url.startswith(_DATABASE_SCHEMES):
            raise ConfigError(f"{name} must start with postgresql:// or postgresql+asyncpg://")
    redis_url = get("REDIS_URL")
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("REDIS_URL must start with redis://, rediss:// or unix://")

    settings = Settings(
        env="prod" if env == "prod" else "dev",
        database_url=database_url,
        analytics_database_url=analytics_database_url,
        analytics_statement_timeout_ms=_positive_int(
            environ, "MEDAPPT_ANALYTICS_STATEMENT_TIMEOUT_MS", 60_000
        ),
        redis_url=redis_url,
        s3_endpoint_url=get("S3_ENDPOINT_URL"),
        s3_bucket=get("S3_BUCKET") or ("" if env == "prod" else "medappt-dev"),
        aws_region=get("AWS_REGION") or "us-east-1",
        aws_access_key_id=get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=get("AWS_SECRET_ACCESS_KEY"),
        twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
        twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
        twilio_from=get("TWILIO_FROM"),
        twilio_base_url=get("TWILIO_BASE_URL") or "https://api.twilio.com",
        sendgrid_api_key=get("SENDGRID_API_KEY"),
        sendgrid_from=get("SENDGRID_FROM"),
        sendgrid_base_url=get("SENDGRID_BASE_URL") or "https://api.sendgrid.com",
        public_url=_public_url(get("MEDAPPT_PUBLIC_URL") or "http://127.0.0.1:8000"),
        data_dir=Path(get("MEDAPPT_DATA_DIR") or ".medappt"),
        jwt_private_key=get("MEDAPPT_JWT_PRIVATE_KEY"),
        jwt_public_keys=get("MEDAPPT_JWT_PUBLIC_KEYS"),
        jwt_issuer=get("MEDAPPT_JWT_ISSUER") or "medappt",
        jwt_audience=get("MEDAPPT_JWT_AUDIENCE") or "medappt-api",
        max_upload_bytes=_positive_int(environ, "MEDAPPT_MAX_UPLOAD_BYTES", 50 * 1024 * 1024),
        document_url_seconds=_positive_int(environ, "MEDAPPT_DOCUMENT_URL_SECONDS", 3600),
        max_body_bytes=_positive_int(environ, "MEDAPPT_MAX_BODY_BYTES", 1024 * 1024),
        max_query_cost=_positive_int(environ, "MEDAPPT_MAX_QUERY_COST", DEFAULT_MAX_QUERY_COST),
        max_subscriptions_per_connection=_positive_int(
            environ, "MEDAPPT_MAX_SUBSCRIPTIONS_PER_CONNECTION", 20
        ),
        max_subscriptions_per_user=_positive_int(environ, "MEDAPPT_MAX_SUBSCRIPTIONS_PER_USER", 50),
        rate_limits=_rate_limits(environ.get("MEDAPPT_RATE_LIMITS", "")),
        trusted_proxies=_networks(environ.get("MEDAPPT_TRUSTED_PROXIES", "")),
        cors_origins=_origins(environ.get("MEDAPPT_CORS_ORIGINS", "")),
        trusted_documents=_trusted_documents(get("MEDAPPT_TRUSTED_DOCUMENTS")),
        public_max_age_s=_positive_int(environ, "MEDAPPT_PUBLIC_MAX_AGE_S", 30),
        reminder_offsets=_offsets(environ.get("MEDAPPT_REMINDER_OFFSETS", "24h,2h")),
        notify_retry_base_seconds=float(
            _positive_int(environ, "MEDAPPT_NOTIFY_RETRY_BASE_SECONDS", 60)
        ),
        notify_max_attempts=_positive_int(environ, "MEDAPPT_NOTIFY_MAX_ATTEMPTS", 6),
        notify_provider_timeout_seconds=float(
            _positive_int(environ, "MEDAPPT_NOTIFY_PROVIDER_TIMEOUT_SECONDS", 30)
        ),
        notify_rescan_seconds=_divisor_of_a_minute(environ, "MEDAPPT_NOTIFY_RESCAN_SECONDS", 15),
        hold_minutes=_positive_int(environ, "MEDAPPT_HOLD_MINUTES", 10),
        offer_minutes=_positive_int(environ, "MEDAPPT_OFFER_MINUTES", 15),
        log_format=_log_format(environ, "json" if env == "prod" else "text"),
        statement_timeout_ms=_positive_int(environ, "MEDAPPT_STATEMENT_TIMEOUT_MS", 5000),
        lock_timeout_ms=_positive_int(environ, "MEDAPPT_LOCK_TIMEOUT_MS", 4000),
        idle_in_transaction_timeout_ms=_positive_int(
            environ, "MEDAPPT_IDLE_IN_TRANSACTION_TIMEOUT_MS", 30_000
        ),
        request_timeout_s=float(_positive_int(environ, "MEDAPPT_REQUEST_TIMEOUT_S", 15)),
        # A request in flight holds a pooled connection: admitted past the pool's size,
        # requests take overflow connections, each closed when given back and opened again
        # at the next burst (docs/performance.md, "The ninth pass").
        max_concurrent_requests=_positive_int(
            environ, "MEDAPPT_MAX_CONCURRENT_REQUESTS", db_pool_size
        ),
        db_pool_size=db_pool_size,
        db_max_overflow=_whole_number(environ, "MEDAPPT_DB_MAX_OVERFLOW", 10),
        redis_max_connections=_positive_int(environ, "MEDAPPT_REDIS_MAX_CONNECTIONS", 50),
        redis_timeout_ms=_positive_int(environ, "MEDAPPT_REDIS_TIMEOUT_MS", 500),
        s3_timeout_s=float(_positive_int(environ, "MEDAPPT_S3_TIMEOUT_S", 10)),
        startup_wait_s=float(_whole_number(environ, "MEDAPPT_STARTUP_WAIT_S", 60)),
        executor=_executor(environ),
    )
    if settings.is_prod:
        settings.require_servers()
        if not settings.s3_bucket:
            raise ConfigError("S3_BUCKET is not set")
        if not settings.jwt_private_key:
            raise ConfigError("MEDAPPT_JWT_PRIVATE_KEY is not set")
    _require_together(
        environ,
        "SMS through Twilio",
        ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM"),
    )
    _require_together(environ, "e-mail through SendGrid", ("SENDGRID_API_KEY", "SENDGRID_FROM"))
    return settings


_OFFSET = re.compile(r"(\d+)([hm])")


def _offsets(raw: str) -> tuple[timedelta, ...]:
    """``24h,2h`` or ``90m``: how long before an appointment reminders go out."""
    offsets = []
    for part in filter(None, (piece.strip() for piece in raw.split(","))):
        match = _OFFSET.fullmatch(part)
        if match is None or int(match[1]) == 0:
            raise ConfigError(
                f"MEDAPPT_REMINDER_OFFSETS must look like '24h,2h' or '90m', not {raw!r}"
            )
        unit = {"h": "hours", "m": "minutes"}[match[2]]
        offsets.append(timedelta(**{unit: int(match[1])}))
    return tuple(sorted(set(offsets), reverse=True))


def _public_url(raw: str) -> str:
    if not _BASE_URL.fullmatch(raw):
        raise ConfigError(
            f"MEDAPPT_PUBLIC_URL must be an http(s) URL like https://app.example.com, not {raw!r}"
        )
    return raw.rstrip("/")


_BASE_URL = re.compile(r"https?://[^/\s?#]+(/[^\s?#]*)?")


def _rate_limits(raw: str) -> RateLimits:
    try:
        return parse_rate_limits(raw)
    except ValueError as error:
        raise ConfigError(f"MEDAPPT_RATE_LIMITS: {error}") from None


def _trusted_documents(path: str | None) -> Mapping[str, str] | None:
    if path is None:
        return None
    try:
        return load_trusted_documents(Path(path))
    except TrustedDocumentsError as error:
        raise ConfigError(f"MEDAPPT_TRUSTED_DOCUMENTS: {error}") from None


def _networks(raw: str) -> tuple[str, ...]:
    """``10.0.0.0/8,192.168.1.7``: addresses and CIDRs, checked at start."""
    networks = []
    for part in filter(None, (piece.strip() for piece in raw.split(","))):
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ConfigError(
                f"MEDAPPT_TRUSTED_PROXIES: {part!r} is not an IP address or CIDR"
            ) from None
    return tuple(networks)


_ORIGIN = re.compile(r"https?://[^/\s]+")


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(filter(None, (piece.strip().rstrip("/") for piece in raw.split(","))))
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(
                f"MEDAPPT_CORS_ORIGINS: {origin!r} is not an origin like https://app.example.com"
            )
    return origins


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) == 0:
        raise ConfigError(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)


def _whole_number(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number, not {raw!r}")
    return int(raw)


def _executor(environ: Mapping[str, str]) -> ExecutorKind:
    raw = environ.get("MEDAPPT_EXECUTOR", "").strip() or "fast"
    if raw == "fast":
        return "fast"
    if raw == "standard":
        return "standard"
    raise ConfigError(f"MEDAPPT_EXECUTOR must be 'fast' or 'standard', not {raw!r}")


def _log_format(environ: Mapping[str, str], default: LogFormat) -> LogFormat:
    raw = environ.get("MEDAPPT_LOG_FORMAT", "").strip() or default
    if raw == "json":
        return "json"
    if raw == "text":
        return "text"
    raise ConfigError(f"MEDAPPT_LOG_FORMAT must be 'json' or 'text', not {raw!r}")


def _divisor_of_a_minute(environ: Mapping[str, str], name: str, default: int) -> int:
    """Cron runs at fixed seconds of each minute, so the interval must divide 60."""
    value = _positive_int(environ, name, default)
    if 60 % value:
        raise ConfigError(f"{name} must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)")
    return value


def _require_together(environ: Mapping[str, str], purpose: str, names: tuple[str, ...]) -> None:
    """A half-configured provider would fail at the first message; fail at start instead."""
    present = [name for name in names if environ.get(name, "").strip()]
    if present and len(present) != len(names):
        missing = next(name for name in names if name not in present)
        raise ConfigError(f"{missing} is not set ({purpose} needs {', '.join(names)})")
