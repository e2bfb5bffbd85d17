"""The whole configuration, validated at start.

Read from a TOML file (`config.example.toml` documents every key); secrets come
from the environment only. A wrong key or value raises `ConfigError` with one line
naming the key, the value and what is expected.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from bot.i18n import LOCALES
from bot.redact import redact
from storage.database import url_problem

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///kehila.db"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BotSection(_Section):
    # Defaults for communities created from now on; each community changes its own.
    locale: str = "en"
    timezone: str = "UTC"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Kehila's local files (counts kept while the database is away, rows it refused,
    # the console's files). Default: the SQLite database's folder; with PostgreSQL,
    # the working directory.
    data_dir: str | None = None
    # "text": one readable line per record; "json": one JSON object per line.
    log_format: Literal["text", "json"] = "text"
    # On SIGTERM (or any stop): how long work already under way may take to finish.
    drain_timeout_s: float = Field(20.0, ge=0, le=600, allow_inf_nan=False)

    @field_validator("locale")
    @classmethod
    def _locale(cls, v: str) -> str:
        if v not in LOCALES:
            raise ValueError(f"one of {', '.join(LOCALES)}")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        # The longest IANA name has 32 characters; a long one is a file name too long.
        try:
            if len(v) > 64:
                raise ValueError(v)
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError("an IANA time zone such as Europe/Berlin") from None
        return v


class DatabaseSection(_Section):
    url: str = DEFAULT_DATABASE_URL
    migrate_on_start: bool = True
    echo: bool = False
    # How long work that needs the database is retried while it cannot be reached.
    retry_for_s: float = Field(30.0, ge=0, le=3600, allow_inf_nan=False)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        problem = url_problem(v)
        if problem is not None:
            raise ValueError(problem)
        return v


class EngagementSection(_Section):
    # Counts held in memory between two writes are what a crash can lose.
    flush_interval_s: float = Field(2.0, gt=0, le=600, allow_inf_nan=False)
    flush_max_events: int = Field(5000, ge=1, le=1_000_000)
    # Processes that draw the digest's charts (another core; 0: a thread of this one).
    chart_processes: int = Field(1, ge=0, le=32)


class OutboxSection(_Section):
    """The delivery queue's worker (bot/outbox.py)."""

    # A claimed row is another process's to take once its lease runs out (a crash);
    # a live worker renews the leases of what it holds.
    lease_s: float = Field(30.0, ge=1, le=3600, allow_inf_nan=False)
    # Sends tried at once (per process); a crash can double at most this many.
    concurrency: int = Field(8, ge=1, le=100)
    # Transient failures and rate limits are retried this many times in all.
    max_attempts: int = Field(8, ge=1, le=100)
    # How often the worker looks for rows another process queued.
    poll_s: float = Field(1.0, gt=0, le=60, allow_inf_nan=False)
    # Processes sending with the same bot tokens: each keeps 1/processes of the limits.
    processes: int = Field(1, ge=1, le=1000)
    # A platform's overall messages per second instead of its published limit
    # (e.g. Telegram's paid broadcasts allow up to 1,000).
    per_second: dict[str, float] = {}

    @field_validator("per_second")
    @classmethod
    def _rates(cls, v: dict[str, float]) -> dict[str, float]:
        platforms = ("discord", "telegram", "console")
        if any(p not in platforms for p in v) or any(not 0 < r <= 100_000 for r in v.values()):
            raise ValueError(
                "a rate above 0 and at most 100000 messages a second for discord, telegram "
                "or console, as in { telegram = 30.0 }"
            )
        return v


def _name(v: str) -> str:
    if not 1 <= len(v) <= 64 or any(c.isspace() for c in v):
        raise ValueError("a name of 1 to 64 characters without spaces")
    return v


def _http_url(v: str, *, secure: bool = False) -> str:
    schemes = ("https://",) if secure else ("https://", "http://")
    if not v.startswith(schemes) or len(v) <= len("https://") or any(c.isspace() for c in v):
        raise ValueError("an https:// URL" if secure else "an http:// or https:// URL")
    return v


class ConsoleSection(_Section):
    # The console room's name and the account that administers it (may run /setup).
    room: str = "general"
    admin: str = "owner"

    _names = field_validator("room", "admin")(_name)


class DiscordSection(_Section):
    enabled: bool = True
    token: SecretStr | None = None  # from KEHILA_DISCORD_TOKEN only
    application_id: int | None = Field(None, ge=1)
    shard_count: int | None = Field(None, ge=1)
    shard_ids: list[int] | None = None
    # Guilds where commands sync instantly (development); empty: global sync.
    dev_guild_ids: list[int] = []
    # How long `kehila run` waits for the gateway to say the bot is ready, once the
    # token was accepted over HTTP; then it gives up on Discord (exit 4 if alone).
    gateway_timeout_s: float = Field(60.0, gt=0, le=3600, allow_inf_nan=False)

    @field_validator("dev_guild_ids")
    @classmethod
    def _guild_ids(cls, v: list[int]) -> list[int]:
        if any(i < 1 for i in v):
            raise ValueError("server ids (positive numbers)")
        return v

    @field_validator("shard_ids")
    @classmethod
    def _shards(cls, v: list[int] | None, info: ValidationInfo) -> list[int] | None:
        if v is None:
            return v
        count = info.data.get("shard_count")
        if count is None:
            raise ValueError("shard_count to be set too")
        if len(set(v)) != len(v) or not all(0 <= i < count for i in v):
            raise ValueError(f"different numbers from 0 to {count - 1} (shard_count - 1)")
        return v


class TelegramSection(_Section):
    enabled: bool = True
    token: SecretStr | None = None  # from KEHILA_TELEGRAM_TOKEN only
    mode: Literal["polling", "webhook"] = "polling"
    base_url: str = "https://api.telegram.org/bot"
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None  # from KEHILA_TELEGRAM_WEBHOOK_SECRET

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str) -> str:
        return _http_url(v)

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, v: str | None) -> str | None:
        # Telegram delivers webhooks over HTTPS only.
        return None if v is None else _http_url(v, secure=True)


class SyncSection(_Section):
    """Several processes on one PostgreSQL: what one changes reaches the others'
    memory through LISTEN/NOTIFY (bot/sync.py). Nothing to do on SQLite."""

    enabled: bool = True
    # The PostgreSQL channel; processes of one deployment must use the same one.
    channel: str = Field("kehila", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    # The listening connection is checked this often; a lost one is opened again and
    # the whole index reloaded.
    check_interval_s: float = Field(10.0, gt=0, le=3600, allow_inf_nan=False)


class WebSection(_Section):
    """The health and metrics server (bot/web.py): /healthz, /readyz, /metrics."""

    # host:port, e.g. "127.0.0.1:8080"; unset: no server (the default).
    listen: str | None = None
    # The address members reach its public pages at (the events' calendar feeds), e.g.
    # "https://kehila.example.org" behind a reverse proxy; unset: no feed links.
    public_url: str | None = None

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str | None) -> str | None:
        if v is None:
            return v
        host, sep, port = v.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("host:port, such as 127.0.0.1:8080")
        return v

    @property
    def address(self) -> tuple[str, int]:
        assert self.listen is not None
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


class Config(_Section):
    bot: BotSection = BotSection()
    database: DatabaseSection = DatabaseSection()
    engagement: EngagementSection = EngagementSection()
    outbox: OutboxSection = OutboxSection()
    console: ConsoleSection = ConsoleSection()
    discord: DiscordSection = DiscordSection()
    telegram: TelegramSection = TelegramSection()
    sync: SyncSection = SyncSection()
    web: WebSection = WebSection()

    @property
    def data_dir(self) -> Path:
        """Where Kehila keeps local files: `bot.data_dir`, else the SQLite database's
        folder, else (PostgreSQL, an in-memory database) the working directory."""
        if self.bot.data_dir:
            return Path(self.bot.data_dir).resolve()
        url = self.database.url
        if url.startswith("sqlite") and ":///" in url:
            path = url.split(":///", 1)[1].split("?", 1)[0]
            if path and path != ":memory:":
                return Path(path).resolve().parent
        return Path.cwd()

    @property
    def platforms_with_tokens(self) -> list[str]:
        out = []
        if self.discord.enabled and self.discord.token:
            out.append("discord")
        if self.telegram.enabled and self.telegram.token:
            out.append("telegram")
        return out


class ConfigError(ValueError):
    pass


# A value shown in an error is cut to this many characters.
SHOWN_MAX = 80


_SECRETS = {
    "KEHILA_DISCORD_TOKEN": ("discord", "token"),
    "KEHILA_TELEGRAM_TOKEN": ("telegram", "token"),
    "KEHILA_TELEGRAM_WEBHOOK_SECRET": ("telegram", "webhook_secret"),
    "KEHILA_DATABASE_URL": ("database", "url"),
}
_FILE_FORBIDDEN = {("discord", "token"), ("telegram", "token"), ("telegram", "webhook_secret")}


def load_config(path: Path | None = None, env: dict[str, str] | None = None) -> Config:
    env = dict(os.environ if env is None else env)
    data: dict[str, Any] = {}
    if path is not None:
        data = _read(path)
    for section, key in _FILE_FORBIDDEN:
        if isinstance(data.get(section), dict) and key in data[section]:
            env_name = next(k for k, v in _SECRETS.items() if v == (section, key))
            raise ConfigError(
                f"{section}.{key}: secrets are not read from the file; set {env_name} instead"
            )
    from_env: dict[str, str] = {}
    for name, (section, key) in _SECRETS.items():
        if env.get(name):
            if not isinstance(data.setdefault(section, {}), dict):
                continue  # `database = 3` in the file: reported below, as its mistake
            data[section][key] = env[name]
            from_env[f"{section}.{key}"] = name
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0], from_env)) from None


def _read(path: Path) -> dict[str, Any]:
    """The file's TOML, or one line saying why it cannot be read."""
    if not path.exists():
        raise ConfigError(f"config file {path} not found (copy config.example.toml)")
    if path.is_dir():
        raise ConfigError(f"config file {path} is a folder; name the file itself")
    try:
        # utf-8-sig: a byte-order mark (some Windows editors write one) is not an error.
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: not UTF-8 text (line {line}); save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def _describe(err: Any, from_env: dict[str, str]) -> str:
    """One line: the key (and the variable it came from), the value, what is expected."""
    key = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"{key}: unknown key (see config.example.toml)"
    where = f"{key} (from {from_env[key]})" if key in from_env else key
    if err["type"] in ("model_type", "dict_type"):
        expected = f"a table ([{key}])"
    else:
        expected = err["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
    value = err.get("input")
    if "token" in key or "secret" in key:
        shown = "(hidden)"
    elif isinstance(value, str | int | float | bool):
        shown = redact(repr(value))
        if len(shown) > SHOWN_MAX:
            shown = f"{shown[: SHOWN_MAX - 4]}… ({len(str(value))} characters)"
    else:  # a table or a list: may hold anything, and does not fit on one line
        return f"{where}: expected {expected}"
    return f"{where} = {shown}: expected {expected}"
