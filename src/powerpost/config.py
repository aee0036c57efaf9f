"""Configuration from POWERPOST_* environment variables.

A bad setting stops start-up with one line that names the variable and what it expects
(`ConfigError`), rather than a traceback or, worse, a silently ignored value.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from powerpost.kit.prices import PriceTable

_RATE_RE = re.compile(r"^\d+\s*/\s*(second|minute|hour|day)$")


class ConfigError(Exception):
    """A one-line, human-readable reason why the configuration cannot be used."""


@dataclass(frozen=True)
class RateLimits:
    read: str = "300/minute"
    write: str = "120/minute"
    generate: str = "30/minute"
    failed_auth_per_ip: str = "30/minute"
    # An account's keys together get this many times one key's budget per endpoint group.
    # Without an account bucket, N keys meant N budgets. 3 lets the usual production +
    # staging + CI keys each run at full speed at once, while a 10-key account gets at most
    # 3x, not 10x, one key's rate.
    account_factor: int = 3


@dataclass(frozen=True)
class JobSettings:
    """The job engine (powerpost.jobs). `embedded`: the server process also runs jobs and
    the dispatcher; scaled API processes turn it off and run `powerpost worker`/`dispatcher`."""

    embedded: bool = True
    concurrency: int = 8
    # Jobs whose handler is `network_bound` (they mostly wait on a remote platform, e.g. one
    # item of a publish) run in slots of their own: a 12-item publish goes out at once
    # instead of in waves behind the CPU-heavy jobs, which keep `concurrency`.
    network_concurrency: int = 64
    lease_seconds: float = 60.0
    dispatch_interval: float = 1.0
    # A queued row whose kick was sent this long ago and still is not claimed is kicked again.
    rekick_seconds: float = 15.0
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    # On shutdown (a deploy), running jobs get this long to finish before they are
    # interrupted and handed back; an interrupted attempt counts as one.
    shutdown_grace: float = 10.0
    # Extra modules that register handlers (the features' tasks.py are found on their own).
    modules: tuple[str, ...] = ()


DEFAULT_IMAGE_MODEL_MAP: dict[str, str] = {
    "flux2-flex": "gpt-image-1",
    "ideogram-3": "gpt-image-1",
    "gpt-image-1.5": "gpt-image-1",
    "nano-banana-2": "gpt-image-1",
}
DEFAULT_VIDEO_MODEL_MAP: dict[str, str] = {
    "kling-3.0-pro": "sora-2",
    "veo-3.1": "sora-2",
    "runway-gen-4.5": "sora-2",
}


@dataclass(frozen=True)
class ProviderSettings:
    """Which AI back end does each task: `offline` (no network, the default) or `openai`
    (any OpenAI-compatible endpoint)."""

    captions: str = "offline"
    images: str = "offline"
    videos: str = "offline"
    openai_base_url: str = "https://api.openai.com/v1"
    openai_api_key: str | None = None
    openai_caption_model: str = "gpt-4o-mini"
    # None: video captions use key frames only, no transcription call
    openai_transcribe_model: str | None = None
    openai_timeout: float = 60.0
    openai_max_retries: int = 2
    image_model_map: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_IMAGE_MODEL_MAP)
    )
    video_model_map: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_VIDEO_MODEL_MAP)
    )
    # Outbound URLs (source_urls, webhooks): plain http and loopback only for local development
    allow_http_urls: bool = False
    allow_loopback_urls: bool = False


@dataclass(frozen=True)
class WebhookSettings:
    """Webhook delivery (§12). Whether http:// and loopback receivers are allowed is the
    providers' `allow_http_urls` / `allow_loopback_urls` (one rule for every outbound URL)."""

    # A receiver must answer within this many seconds (the contract says 10); lowered only
    # by tests, which cannot wait 10 s for every slow-receiver case.
    timeout: float = 10.0
    max_endpoints: int = 10
    retention_days: int = 30
    # An endpoint that has failed every attempt for this long is disabled and flagged.
    disable_after_hours: float = 72.0
    # How long the previous secret keeps signing after a rotation.
    rotation_overlap_hours: float = 24.0
    # Seconds between retention sweeps in the dispatching process (0 turns them off).
    sweep_interval: float = 3600.0


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None = None
    # version -> secret; the highest version signs new keys, older ones still verify.
    key_peppers: Mapping[int, bytes] = field(default_factory=dict)
    secret_key: bytes = b""
    allow_signup: bool = True
    signup_credits: int = 50
    rate_limits: RateLimits = field(default_factory=RateLimits)
    jobs: JobSettings = field(default_factory=JobSettings)
    providers: ProviderSettings = field(default_factory=ProviderSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    prices: PriceTable = field(default_factory=PriceTable)
    max_json_body_bytes: int = 1_048_576
    storage_quota_bytes: int = 10 * 1024**3
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    # A directory path, file:///dir, or s3://bucket/prefix?endpoint_url=…&region=… (media).
    # None means "<data_dir>/media".
    storage_url: str | None = None
    # The media sweep (media/sweep.py) in the dispatching process: seconds between passes
    # (0 turns it off) and how old leftovers must be before they count as abandoned.
    media_sweep_interval: float = 3600.0
    media_sweep_grace_hours: int = 6
    # Addresses (IPs or CIDR ranges) of reverse proxies whose X-Forwarded-For and
    # X-Forwarded-Proto are believed: the client address (rate limits, last used, the
    # dashboard's list of browsers) and https (Secure cookies) then come from them.
    trusted_proxies: tuple[str, ...] = ()
    # Prefix of absolute media URLs; None means http://{host}:{port}.
    public_base_url: str | None = None
    # Test mode's simulated platforms answer after a random pause in this range
    # (milliseconds), as real networks do; 0 makes them answer at once.
    sandbox_latency_ms: tuple[int, int] = (40, 120)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def current_pepper_version(self) -> int:
        return max(self.key_peppers)


def _bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _int(name: str, raw: str, *, minimum: int = 0) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _rate(name: str, raw: str) -> str:
    if not _RATE_RE.match(raw.strip()):
        raise ConfigError(f"{name} must look like '300/minute', got {raw!r}")
    return raw.strip()


def _secret_hex(name: str, raw: str) -> bytes:
    try:
        value = bytes.fromhex(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be hex-encoded") from None
    if len(value) < 32:
        raise ConfigError(f"{name} must be at least 32 bytes (64 hex characters)")
    return value


def _peppers(raw: str) -> dict[int, bytes]:
    """`POWERPOST_KEY_PEPPERS="2:<hex>,1:<hex>"`: every version stays usable for lookups."""
    peppers: dict[int, bytes] = {}
    for part in raw.split(","):
        version, sep, secret = part.strip().partition(":")
        if not sep or not version.isdigit():
            raise ConfigError("POWERPOST_KEY_PEPPERS must look like '2:<hex>,1:<hex>'")
        peppers[int(version)] = _secret_hex("POWERPOST_KEY_PEPPERS", secret)
    return peppers


def _load_or_create_secret(path: Path) -> bytes:
    """Generated once into the data dir, so the embedded default needs no setup.

    The file appears complete or not at all: the secret is written and synced to a private
    temporary file which is then hard-linked into place. The link fails if the file exists,
    so of several processes starting together (server, worker, dispatcher) exactly one
    secret wins and every process reads that one; none can see a half-written file.
    """
    if path.exists():
        return _secret_hex(str(path), path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(os.urandom(32).hex())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return _secret_hex(str(path), path.read_text())


def _seconds(name: str, raw: str | None, default: float, *, minimum: float) -> float:
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not minimum <= value <= 86_400:
        raise ConfigError(f"{name} must be between {minimum} and 86400 seconds, got {raw!r}")
    return value


_MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _job_settings(get: Callable[[str], str | None]) -> JobSettings:
    embedded = get("POWERPOST_JOBS_EMBEDDED")
    concurrency = get("POWERPOST_JOB_CONCURRENCY")
    network_concurrency = get("POWERPOST_JOB_NETWORK_CONCURRENCY")
    modules = tuple(m.strip() for m in (get("POWERPOST_JOB_MODULES") or "").split(",") if m.strip())
    if bad := [m for m in modules if not _MODULE_RE.match(m)]:
        raise ConfigError(f"POWERPOST_JOB_MODULES must be dotted module names, got {bad[0]!r}")
    base = _seconds(
        "POWERPOST_JOB_BACKOFF_BASE", get("POWERPOST_JOB_BACKOFF_BASE"), 2.0, minimum=0.001
    )
    cap = _seconds(
        "POWERPOST_JOB_BACKOFF_CAP", get("POWERPOST_JOB_BACKOFF_CAP"), 300.0, minimum=0.001
    )
    if cap < base:
        raise ConfigError("POWERPOST_JOB_BACKOFF_CAP must not be below POWERPOST_JOB_BACKOFF_BASE")
    return JobSettings(
        embedded=_bool("POWERPOST_JOBS_EMBEDDED", embedded) if embedded else True,
        concurrency=_int("POWERPOST_JOB_CONCURRENCY", concurrency, minimum=1) if concurrency else 8,
        network_concurrency=(
            _int("POWERPOST_JOB_NETWORK_CONCURRENCY", network_concurrency, minimum=1)
            if network_concurrency
            else 64
        ),
        lease_seconds=_seconds(
            "POWERPOST_JOB_LEASE_SECONDS", get("POWERPOST_JOB_LEASE_SECONDS"), 60.0, minimum=0.3
        ),
        dispatch_interval=_seconds(
            "POWERPOST_JOB_DISPATCH_INTERVAL",
            get("POWERPOST_JOB_DISPATCH_INTERVAL"),
            1.0,
            minimum=0.01,
        ),
        rekick_seconds=_seconds(
            "POWERPOST_JOB_REKICK_SECONDS", get("POWERPOST_JOB_REKICK_SECONDS"), 15.0, minimum=0.05
        ),
        backoff_base=base,
        backoff_cap=cap,
        shutdown_grace=_seconds(
            "POWERPOST_JOB_SHUTDOWN_GRACE", get("POWERPOST_JOB_SHUTDOWN_GRACE"), 10.0, minimum=0
        ),
        modules=modules,
    )


def _model_map(name: str, raw: str | None, default: Mapping[str, str]) -> dict[str, str]:
    if raw is None:
        return dict(default)
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        raise ConfigError(f"{name} must be a JSON object of model names") from None
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in parsed.items()
    ):
        raise ConfigError(f"{name} must map model names to provider model names")
    unknown = sorted(set(parsed) - set(default))
    if unknown:
        raise ConfigError(f"{name}: unknown model {unknown[0]!r}; known: {', '.join(default)}")
    return {**default, **parsed}


def _provider_settings(get: Callable[[str], str | None]) -> ProviderSettings:
    choices = {}
    for task in ("captions", "images", "videos"):
        name = f"POWERPOST_{task.upper()}_PROVIDER"
        value = (get(name) or "offline").lower()
        if value not in ("offline", "openai"):
            raise ConfigError(f"{name} must be offline or openai, got {value!r}")
        choices[task] = value
    api_key = get("POWERPOST_OPENAI_API_KEY")
    if "openai" in choices.values() and not api_key:
        raise ConfigError("POWERPOST_OPENAI_API_KEY is required when a provider is openai")
    base_url = (get("POWERPOST_OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError("POWERPOST_OPENAI_BASE_URL must be an http(s):// URL")
    retries = get("POWERPOST_OPENAI_MAX_RETRIES")
    allow_http = get("POWERPOST_ALLOW_HTTP_URLS")
    allow_loopback = get("POWERPOST_ALLOW_LOOPBACK_URLS")
    return ProviderSettings(
        captions=choices["captions"],
        images=choices["images"],
        videos=choices["videos"],
        openai_base_url=base_url,
        openai_api_key=api_key,
        openai_caption_model=get("POWERPOST_OPENAI_CAPTION_MODEL") or "gpt-4o-mini",
        openai_transcribe_model=get("POWERPOST_OPENAI_TRANSCRIBE_MODEL"),
        openai_timeout=_seconds(
            "POWERPOST_OPENAI_TIMEOUT", get("POWERPOST_OPENAI_TIMEOUT"), 60.0, minimum=0.1
        ),
        openai_max_retries=_int("POWERPOST_OPENAI_MAX_RETRIES", retries) if retries else 2,
        image_model_map=_model_map(
            "POWERPOST_IMAGE_MODEL_MAP", get("POWERPOST_IMAGE_MODEL_MAP"), DEFAULT_IMAGE_MODEL_MAP
        ),
        video_model_map=_model_map(
            "POWERPOST_VIDEO_MODEL_MAP", get("POWERPOST_VIDEO_MODEL_MAP"), DEFAULT_VIDEO_MODEL_MAP
        ),
        allow_http_urls=_bool("POWERPOST_ALLOW_HTTP_URLS", allow_http) if allow_http else False,
        allow_loopback_urls=(
            _bool("POWERPOST_ALLOW_LOOPBACK_URLS", allow_loopback) if allow_loopback else False
        ),
    )


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env

    def get(name: str) -> str | None:
        value = env.get(name)
        return value if value not in (None, "") else None

    data_dir = Path(get("POWERPOST_DATA_DIR") or "./data").resolve()
    database_url = get("POWERPOST_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir}/powerpost.db"
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        database_url = "postgresql+asyncpg://" + database_url.split("://", 1)[1]
    if not database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(
            "POWERPOST_DATABASE_URL must be a sqlite+aiosqlite:// or postgresql:// URL"
        )
    redis_url = get("POWERPOST_REDIS_URL")
    if redis_url and not redis_url.startswith(("redis://", "rediss://")):
        raise ConfigError("POWERPOST_REDIS_URL must start with redis:// or rediss://")

    raw_peppers = get("POWERPOST_KEY_PEPPERS")
    if raw_peppers:
        peppers = _peppers(raw_peppers)
    else:
        peppers = {1: _load_or_create_secret(data_dir / "key_pepper")}
    raw_secret = get("POWERPOST_SECRET_KEY")
    secret = (
        _secret_hex("POWERPOST_SECRET_KEY", raw_secret)
        if raw_secret
        else _load_or_create_secret(data_dir / "secret_key")
    )

    account_factor = get("POWERPOST_RATE_LIMIT_ACCOUNT_FACTOR")
    rate_limits = RateLimits(
        read=_rate("POWERPOST_RATE_LIMIT_READ", get("POWERPOST_RATE_LIMIT_READ") or "300/minute"),
        write=_rate(
            "POWERPOST_RATE_LIMIT_WRITE", get("POWERPOST_RATE_LIMIT_WRITE") or "120/minute"
        ),
        generate=_rate(
            "POWERPOST_RATE_LIMIT_GENERATE", get("POWERPOST_RATE_LIMIT_GENERATE") or "30/minute"
        ),
        failed_auth_per_ip=_rate(
            "POWERPOST_RATE_LIMIT_FAILED_AUTH",
            get("POWERPOST_RATE_LIMIT_FAILED_AUTH") or "30/minute",
        ),
        account_factor=(
            _int("POWERPOST_RATE_LIMIT_ACCOUNT_FACTOR", account_factor, minimum=1)
            if account_factor
            else 3
        ),
    )

    prices = PriceTable()
    raw_prices = get("POWERPOST_PRICES")
    if raw_prices:
        try:
            overrides = json.loads(raw_prices)
        except json.JSONDecodeError:
            raise ConfigError("POWERPOST_PRICES must be a JSON object") from None
        try:
            prices = prices.with_overrides(overrides)
        except ValueError as exc:
            raise ConfigError(f"POWERPOST_PRICES: {exc}") from None
    if (metering := get("POWERPOST_METERING")) is not None and not _bool(
        "POWERPOST_METERING", metering
    ):
        prices = prices.free()

    port_raw = get("POWERPOST_PORT")
    port = _int("POWERPOST_PORT", port_raw, minimum=1) if port_raw else 8000
    if port > 65535:
        raise ConfigError(f"POWERPOST_PORT must be at most 65535, got {port}")
    signup = get("POWERPOST_ALLOW_SIGNUP")
    quota = get("POWERPOST_STORAGE_QUOTA_BYTES")
    signup_credits = get("POWERPOST_SIGNUP_CREDITS")
    sweep_grace = get("POWERPOST_MEDIA_SWEEP_GRACE_HOURS")
    return Settings(
        trusted_proxies=_trusted_proxies(get("POWERPOST_TRUSTED_PROXIES")),
        data_dir=data_dir,
        database_url=database_url,
        redis_url=redis_url,
        key_peppers=peppers,
        secret_key=secret,
        allow_signup=_bool("POWERPOST_ALLOW_SIGNUP", signup) if signup else True,
        signup_credits=(_int("POWERPOST_SIGNUP_CREDITS", signup_credits) if signup_credits else 50),
        rate_limits=rate_limits,
        jobs=_job_settings(get),
        providers=_provider_settings(get),
        webhooks=WebhookSettings(
            timeout=_seconds(
                "POWERPOST_WEBHOOK_TIMEOUT", get("POWERPOST_WEBHOOK_TIMEOUT"), 10.0, minimum=0.05
            ),
        ),
        prices=prices,
        storage_quota_bytes=(
            _int("POWERPOST_STORAGE_QUOTA_BYTES", quota, minimum=1) if quota else 10 * 1024**3
        ),
        host=get("POWERPOST_HOST") or "127.0.0.1",
        port=port,
        log_level=(get("POWERPOST_LOG_LEVEL") or "info").lower(),
        storage_url=_storage_url(get("POWERPOST_STORAGE_URL"), data_dir),
        media_sweep_interval=_seconds(
            "POWERPOST_MEDIA_SWEEP_INTERVAL",
            get("POWERPOST_MEDIA_SWEEP_INTERVAL"),
            3600.0,
            minimum=0,
        ),
        media_sweep_grace_hours=(
            _int("POWERPOST_MEDIA_SWEEP_GRACE_HOURS", sweep_grace, minimum=1) if sweep_grace else 6
        ),
        public_base_url=_public_base_url(get("POWERPOST_PUBLIC_BASE_URL")),
        sandbox_latency_ms=_latency_range(get("POWERPOST_SANDBOX_LATENCY_MS")),
    )


def _trusted_proxies(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    entries = tuple(part.strip() for part in raw.split(",") if part.strip())
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError(
                f"POWERPOST_TRUSTED_PROXIES must list IP addresses or CIDR ranges, got {entry!r}"
            ) from None
    return entries


def _storage_url(raw: str | None, data_dir: Path) -> str:
    if raw is None:
        return str(data_dir / "media")
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme not in ("", "file", "s3"):
        raise ConfigError("POWERPOST_STORAGE_URL must be a directory, file:///dir or s3://bucket/…")
    if scheme == "s3" and not raw[len("s3://") :].split("/", 1)[0].split("?", 1)[0]:
        raise ConfigError("POWERPOST_STORAGE_URL names no bucket (s3://bucket/prefix)")
    return raw


def _latency_range(raw: str | None) -> tuple[int, int]:
    """`POWERPOST_SANDBOX_LATENCY_MS`: `N` or `LOW-HIGH` milliseconds (default 40-120)."""
    if raw is None or not raw.strip():
        return (40, 120)
    low, _, high = raw.strip().partition("-")
    low_ms = _int("POWERPOST_SANDBOX_LATENCY_MS", low.strip())
    high_ms = _int("POWERPOST_SANDBOX_LATENCY_MS", high.strip()) if high else low_ms
    if high_ms < low_ms or high_ms > 60_000:
        raise ConfigError("POWERPOST_SANDBOX_LATENCY_MS must be N or LOW-HIGH, at most 60000")
    return (low_ms, high_ms)


def _public_base_url(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not raw.startswith(("http://", "https://")) or "?" in raw or "#" in raw:
        raise ConfigError("POWERPOST_PUBLIC_BASE_URL must be an http(s):// URL without a query")
    return raw.rstrip("/")
