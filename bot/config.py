"""The whole configuration, validated at start.

Read from a TOML file (`config.example.toml` documents every key); secrets come
from the environment only. A wrong key or value raises `ConfigError` with one line
naming the key, the value and what is expected.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from bot.i18n import LOCALES

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

    @field_validator("locale")
    @classmethod
    def _locale(cls, v: str) -> str:
        if v not in LOCALES:
            raise ValueError(f"one of {', '.join(LOCALES)}")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("an IANA time zone such as Europe/Berlin") from None
        return v


class DatabaseSection(_Section):
    url: str = DEFAULT_DATABASE_URL
    migrate_on_start: bool = True
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("a sqlite+aiosqlite:// or postgresql+asyncpg:// URL")
        return v


class EngagementSection(_Section):
    flush_interval_s: float = Field(2.0, gt=0)
    flush_max_events: int = Field(5000, gt=0)


class ConsoleSection(_Section):
    # The console room's name and the account that administers it (may run /setup).
    room: str = "general"
    admin: str = "owner"


class DiscordSection(_Section):
    enabled: bool = True
    token: SecretStr | None = None  # from KEHILA_DISCORD_TOKEN only
    application_id: int | None = None
    shard_count: int | None = Field(None, ge=1)
    shard_ids: list[int] | None = None
    # Guilds where commands sync instantly (development); empty: global sync.
    dev_guild_ids: list[int] = []


class TelegramSection(_Section):
    enabled: bool = True
    token: SecretStr | None = None  # from KEHILA_TELEGRAM_TOKEN only
    mode: Literal["polling", "webhook"] = "polling"
    base_url: str = "https://api.telegram.org/bot"
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None  # from KEHILA_TELEGRAM_WEBHOOK_SECRET


class Config(_Section):
    bot: BotSection = BotSection()
    database: DatabaseSection = DatabaseSection()
    engagement: EngagementSection = EngagementSection()
    console: ConsoleSection = ConsoleSection()
    discord: DiscordSection = DiscordSection()
    telegram: TelegramSection = TelegramSection()

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


# user:password@ in a URL: the password never appears in an error.
_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")


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
        if not path.exists():
            raise ConfigError(f"config file {path} not found (copy config.example.toml)")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    for section, key in _FILE_FORBIDDEN:
        if key in data.get(section, {}):
            env_name = next(k for k, v in _SECRETS.items() if v == (section, key))
            raise ConfigError(
                f"{section}.{key}: secrets are not read from the file; set {env_name} instead"
            )
    for name, (section, key) in _SECRETS.items():
        if env.get(name):
            data.setdefault(section, {})[key] = env[name]
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        value = err.get("input")
        if "token" in key or "secret" in key:
            shown = "(hidden)"
        else:
            shown = repr(
                _PASSWORD_IN_URL.sub(r"\1***@", value) if isinstance(value, str) else value
            )
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"{key}: unknown key (see config.example.toml)") from None
        expected = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{key} = {shown}: expected {expected}") from None
