"""The configuration: validated at start, one clear line per mistake, secrets only
from the environment and never echoed back."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_DATABASE_URL, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:AAE-very-secret-token"


def write(tmp_path: Path, toml: str) -> Path:
    path = tmp_path / "kehila.toml"
    path.write_text(toml, encoding="utf-8")
    return path


def error_of(tmp_path: Path, toml: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, toml), env=env or {})
    message = str(info.value)
    assert "\n" not in message, f"not one line: {message!r}"
    return message


def test_defaults_validate() -> None:
    config = load_config(None, env={})
    assert config.database.url == DEFAULT_DATABASE_URL
    assert (config.bot.locale, config.bot.timezone) == ("en", "UTC")
    assert config.database.migrate_on_start is True
    assert config.platforms_with_tokens == []  # no token: the console


def test_the_documented_example_validates() -> None:
    # config.example.toml documents every key with its default: it must load.
    config = load_config(ROOT / "config.example.toml", env={})
    assert config == load_config(None, env={})


def test_local_files_go_next_to_the_sqlite_database_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sqlite = {"KEHILA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/var/kehila.db"}
    assert load_config(None, env=sqlite).data_dir == tmp_path / "var"
    assert load_config(None, env={}).data_dir == tmp_path  # kehila.db, relative
    postgres = {"KEHILA_DATABASE_URL": "postgresql+asyncpg://kehila@db/kehila"}
    assert load_config(None, env=postgres).data_dir == tmp_path  # the working directory
    told = load_config(write(tmp_path, f'[bot]\ndata_dir = "{tmp_path}/data"\n'), env=sqlite)
    assert told.data_dir == tmp_path / "data"


def test_the_web_address(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[web]\nlisten = "[::1]:9100"\n'), env={})
    assert config.web.address == ("::1", 9100)
    assert load_config(None, env={}).web.listen is None  # off by default


def test_a_valid_file_is_read(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, '[bot]\nlocale = "he"\ntimezone = "Asia/Jerusalem"\n'), env={}
    )
    assert (config.bot.locale, config.bot.timezone) == ("he", "Asia/Jerusalem")


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[bot]\ntimezon = "UTC"\n', "bot.timezon"),
        ('[databse]\nurl = "sqlite+aiosqlite:///x.db"\n', "databse"),
        ("[telegram]\nwebhook_prot = 80\n", "telegram.webhook_prot"),
    ],
)
def test_a_wrong_key_is_named(tmp_path: Path, toml: str, key: str) -> None:
    message = error_of(tmp_path, toml)
    assert message.startswith(f"{key}:")
    assert "unknown key" in message


@pytest.mark.parametrize(
    ("toml", "key", "value", "expected"),
    [
        ('[bot]\ntimezone = "Mars/Base"\n', "bot.timezone", "Mars/Base", "IANA time zone"),
        ('[database]\nurl = "mysql://x"\n', "database.url", "mysql://x", "postgresql+asyncpg://"),
        ('[bot]\nlocale = "fr"\n', "bot.locale", "fr", "en, he, de"),
        ("[telegram]\nwebhook_port = 70000\n", "telegram.webhook_port", "70000", "65535"),
        ('[bot]\nlog_level = "LOUD"\n', "bot.log_level", "LOUD", "INFO"),
        ('[bot]\nlog_format = "xml"\n', "bot.log_format", "xml", "'text' or 'json'"),
        ("[bot]\ndrain_timeout_s = 601\n", "bot.drain_timeout_s", "601", "600"),
        ("[discord]\ngateway_timeout_s = 0\n", "discord.gateway_timeout_s", "0", "greater than 0"),
        ('[web]\nlisten = "8080"\n', "web.listen", "8080", "host:port, such as 127.0.0.1:8080"),
        ('[web]\nlisten = "localhost:http"\n', "web.listen", "localhost:http", "host:port"),
        ('[sync]\nchannel = "Kehila Bot"\n', "sync.channel", "Kehila Bot", "pattern"),
        ("[sync]\ncheck_interval_s = 0\n", "sync.check_interval_s", "0", "greater than 0"),
    ],
)
def test_a_wrong_value_names_key_value_and_what_is_expected(
    tmp_path: Path, toml: str, key: str, value: str, expected: str
) -> None:
    message = error_of(tmp_path, toml)
    assert message.startswith(key)
    assert value in message
    assert "expected" in message and expected in message


@pytest.mark.parametrize(
    ("section", "key", "env_name"),
    [
        ("discord", "token", "KEHILA_DISCORD_TOKEN"),
        ("telegram", "token", "KEHILA_TELEGRAM_TOKEN"),
        ("telegram", "webhook_secret", "KEHILA_TELEGRAM_WEBHOOK_SECRET"),
    ],
)
def test_a_secret_in_the_file_is_refused_without_echoing_it(
    tmp_path: Path, section: str, key: str, env_name: str
) -> None:
    message = error_of(tmp_path, f'[{section}]\n{key} = "{TOKEN}"\n')
    assert message.startswith(f"{section}.{key}")
    assert env_name in message  # says where the secret belongs
    assert TOKEN not in message


def test_tokens_come_from_the_environment(tmp_path: Path) -> None:
    config = load_config(
        None, env={"KEHILA_TELEGRAM_TOKEN": TOKEN, "KEHILA_DISCORD_TOKEN": "d-" + TOKEN}
    )
    assert config.telegram.token is not None
    assert config.telegram.token.get_secret_value() == TOKEN
    assert config.platforms_with_tokens == ["discord", "telegram"]
    # Printing or logging the config does not show the token.
    assert TOKEN not in repr(config) and TOKEN not in str(config)


def test_a_token_never_appears_in_an_error(tmp_path: Path) -> None:
    env = {"KEHILA_TELEGRAM_TOKEN": TOKEN, "KEHILA_DISCORD_TOKEN": TOKEN}
    message = error_of(tmp_path, '[bot]\ntimezone = "Mars/Base"\n', env=env)
    assert TOKEN not in message


def test_a_database_password_never_appears_in_an_error() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, env={"KEHILA_DATABASE_URL": "mysql://kehila:secret123@db/kehila"})
    assert str(info.value).startswith("database.url")
    assert "secret123" not in str(info.value)


def test_database_url_from_the_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite+aiosqlite:///from-file.db"\n')
    assert load_config(path, env={}).database.url == "sqlite+aiosqlite:///from-file.db"
    url = "postgresql+asyncpg://kehila@db.example.com:5432/kehila"
    assert load_config(path, env={"KEHILA_DATABASE_URL": url}).database.url == url
    # An override is validated like the file.
    with pytest.raises(ConfigError, match=r"^database\.url"):
        load_config(path, env={"KEHILA_DATABASE_URL": "mysql://x"})


def test_a_missing_or_broken_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", env={})
    message = error_of(tmp_path, "[bot\nlocale = \n")
    assert "not valid TOML" in message


@pytest.mark.parametrize(
    ("toml", "start", "expected"),
    [
        # Ranges: what a value may be, named in the error.
        ("[engagement]\nflush_interval_s = inf\n", "engagement.flush_interval_s = inf", "finite"),
        ("[engagement]\nflush_interval_s = nan\n", "engagement.flush_interval_s = nan", "finite"),
        (
            "[engagement]\nflush_interval_s = 0\n",
            "engagement.flush_interval_s = 0",
            "greater than 0",
        ),
        ("[engagement]\nflush_interval_s = 3600\n", "engagement.flush_interval_s", "600"),
        ("[engagement]\nflush_max_events = 0\n", "engagement.flush_max_events = 0", "1"),
        ("[engagement]\nflush_max_events = 10_000_000\n", "engagement.flush_max_events", "1000000"),
        ('[bot]\ntimezone = ""\n', "bot.timezone = ''", "IANA"),
        ('[bot]\ntimezone = "../../etc/passwd"\n', "bot.timezone", "IANA"),
        ('[console]\nroom = ""\n', "console.room = ''", "without spaces"),
        ('[console]\nadmin = "the owner"\n', "console.admin = 'the owner'", "without spaces"),
        ("[discord]\nshard_ids = [0]\n", "discord.shard_ids", "shard_count"),
        ("[discord]\nshard_count = 2\nshard_ids = [0, 2]\n", "discord.shard_ids", "0 to 1"),
        ("[discord]\nshard_count = 2\nshard_ids = [1, 1]\n", "discord.shard_ids", "different"),
        ("[discord]\napplication_id = -5\n", "discord.application_id = -5", "greater than"),
        ("[discord]\ndev_guild_ids = [0]\n", "discord.dev_guild_ids", "server ids"),
        ('[telegram]\nbase_url = "api.telegram.org/bot"\n', "telegram.base_url", "https://"),
        (
            '[telegram]\nwebhook_url = "http://bot.example.org/hook"\n',
            "telegram.webhook_url",
            "https://",
        ),
        ('telegram = "on"\n', "telegram = 'on'", "a table ([telegram])"),
        ('[database]\nurl = "sqlite+aiosqlite://"\n', "database.url", "a file"),
        ('[database]\nurl = "postgresql+asyncpg:///kehila"\n', "database.url", "a host"),
        (
            '[database]\nurl = "postgresql+asyncpg://db.example.com"\n',
            "database.url",
            "database name",
        ),
        ('[database]\nurl = "postgresql+asyncpg://db:99999/k"\n', "database.url", "1 to 65535"),
        ('[database]\nurl = "postgresql+asyncpg://db:x/k"\n', "database.url", "1 to 65535"),
        ("[outbox]\nlease_s = 0\n", "outbox.lease_s = 0", "greater than or equal to 1"),
        ("[outbox]\nconcurrency = 101\n", "outbox.concurrency = 101", "100"),
        ("[outbox]\nprocesses = 0\n", "outbox.processes = 0", "1"),
        ("[outbox]\npoll_s = inf\n", "outbox.poll_s = inf", "finite"),
        ("[outbox]\nper_second = { telegram = 0.0 }\n", "outbox.per_second", "above 0"),
        ("[outbox]\nper_second = { telegram = inf }\n", "outbox.per_second", "at most 100000"),
        ("[outbox]\nper_second = { whatsapp = 5.0 }\n", "outbox.per_second", "discord, telegram"),
    ],
)
def test_every_key_has_a_range(tmp_path: Path, toml: str, start: str, expected: str) -> None:
    message = error_of(tmp_path, toml)
    assert message.startswith(start)
    assert "expected" in message and expected in message
    assert "Input should" not in message  # pydantic's phrasing is reworded


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///var/kehila.db",
        "sqlite+aiosqlite:///:memory:",
        "postgresql+asyncpg://kehila:pw@db.example.com:5432/kehila",
        "postgresql+asyncpg://kehila@/kehila?host=/run/postgresql",
    ],
)
def test_usable_database_urls_are_accepted(url: str) -> None:
    assert load_config(None, env={"KEHILA_DATABASE_URL": url}).database.url == url


def test_a_file_that_cannot_be_read_is_one_clear_line(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(folder, env={})
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'# Z\xfcrich\n[bot]\ntimezone = "Europe/Zurich"\n')
    with pytest.raises(ConfigError, match=r"not UTF-8 text \(line 1\)"):
        load_config(latin, env={})


def test_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "kehila.toml"
    path.write_bytes(b'\xef\xbb\xbf[bot]\nlocale = "he"\n')
    assert load_config(path, env={}).bot.locale == "he"


def test_a_long_value_is_cut_in_the_error(tmp_path: Path) -> None:
    message = error_of(tmp_path, f'[bot]\ntimezone = "{"Europe/" * 1000}"\n')
    assert len(message) < 200
    assert "(7000 characters)" in message


def test_a_bad_value_from_the_environment_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, env={"KEHILA_DATABASE_URL": "postgresql+asyncpg://"})
    assert str(info.value).startswith(
        "database.url (from KEHILA_DATABASE_URL) = 'postgresql+asyncpg://': expected a host"
    )


def test_every_community_setting_is_documented_with_its_range() -> None:
    from pathlib import Path

    from bot.features import all_features

    doc = (Path(__file__).parents[2] / "docs" / "CONFIGURATION.md").read_text()
    for feature in all_features():
        for setting in feature.settings:
            assert f"| `{setting.key}` |" in doc, f"{setting.key} is not in docs/CONFIGURATION.md"
