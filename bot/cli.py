"""The `kehila` command line.

kehila run              the adapters whose tokens are set (else the console)
kehila console          an offline community in this terminal (--script FILE)
kehila demo             a scripted month of a small community, in seconds
kehila db upgrade       bring the database schema up to date
kehila discord invite-url
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import NoReturn

import click

from bot import __version__, redact
from bot.config import Config, ConfigError, load_config
from bot.logging_setup import setup_logging
from bot.ports import AdaptersUnavailable
from storage.database import StorageUnavailable

EXIT_CONFIG = 2
EXIT_STORAGE = 3
EXIT_PLATFORMS = 4


def _exit(message: str, code: int) -> NoReturn:
    """One line on stderr, secrets redacted, and the exit code that says why."""
    click.echo(f"kehila: {redact.redact(message)}", err=True)
    sys.exit(code)


def _config(path: str | None) -> Config:
    chosen = Path(path) if path else None
    if chosen is None and os.environ.get("KEHILA_CONFIG"):
        chosen = Path(os.environ["KEHILA_CONFIG"])
    if chosen is None and Path("kehila.toml").exists():
        chosen = Path("kehila.toml")
    try:
        return load_config(chosen)
    except ConfigError as exc:
        _exit(f"configuration error: {exc}", EXIT_CONFIG)


def _run(coro: object) -> None:
    try:
        asyncio.run(coro)  # type: ignore[arg-type]
    except StorageUnavailable as exc:
        _exit(str(exc), EXIT_STORAGE)
    except ConfigError as exc:  # found only when starting (web.listen taken)
        _exit(f"configuration error: {exc}", EXIT_CONFIG)
    except AdaptersUnavailable as exc:
        _exit(
            f"no platform could be started ({exc}). Check the network and the tokens.",
            EXIT_PLATFORMS,
        )
    except KeyboardInterrupt:
        pass


@click.group()
@click.version_option(__version__, prog_name="kehila")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="TOML config file (default: $KEHILA_CONFIG or ./kehila.toml).",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """Kehila: a community bot for business owners on Discord and Telegram."""
    redact.install()  # before anything can log or fail
    ctx.obj = config_path


@main.command()
@click.pass_obj
def run(config_path: str | None) -> None:
    """Run the bot on every platform with a token; the console if none."""
    config = _config(config_path)
    setup_logging(config)
    platforms = config.platforms_with_tokens
    if not platforms:
        click.echo(
            "No platform token is set (KEHILA_DISCORD_TOKEN, KEHILA_TELEGRAM_TOKEN): "
            "starting the offline console instead."
        )
        _run(_console(config, script=None))
        return
    _run(_serve(config, platforms))


async def _serve(config: Config, platforms: list[str]) -> None:
    from bot.app import App, build_adapters

    app = App(config, adapters=build_adapters(config, platforms))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Before starting: a SIGTERM while the platforms connect (a gateway may take a
    # minute) stops Kehila the same graceful way.
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    starting = asyncio.create_task(app.start())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        stopping.cancel()
        await app.stop()
        return
    try:
        starting.result()  # a start that failed raises here, with its exit code
        await stopping
    finally:
        stopping.cancel()
        if app.started:
            await app.stop()


@main.command()
@click.option(
    "--script",
    type=click.Path(exists=True, dir_okay=False),
    help="Read the lines from a file instead of the keyboard.",
)
@click.pass_obj
def console(config_path: str | None, script: str | None) -> None:
    """An offline community in this terminal: act as any member (/as NAME, /join NAME, /advance 3d)."""
    config = _config(config_path)
    setup_logging(config)
    _run(_console(config, script=Path(script) if script else None))


async def _console(config: Config, script: Path | None) -> None:
    from adapters.console.community import ConsoleCommunity
    from adapters.console.script import ScriptError

    files = _files_dir(config)
    community = ConsoleCommunity(config, echo=click.echo, files_dir=files)
    await community.start()
    session = community.session
    if community.app.directory.community_of("console", "console") is None:
        click.echo("Console room ready. You are the admin: start with /setup NAME, then /help.")
    try:
        if script is not None:
            for line in script.read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    click.echo(f"{session.actor.name}@#{session.channel}> {line}")
                try:
                    await session.line(line)
                except ScriptError as exc:
                    click.echo(f"  usage: {exc}")
            return
        while True:
            try:
                line = await asyncio.to_thread(input, f"{session.actor.name}@#{session.channel}> ")
            except EOFError:
                break
            if line.strip() in ("/quit", "/exit"):
                break
            try:
                await session.line(line)
            except ScriptError as exc:
                click.echo(f"  usage: {exc}")
    finally:
        await community.stop()


def _files_dir(config: Config) -> Path:
    """Files the console receives (charts, exports) go next to the SQLite database."""
    url = config.database.url
    if url.startswith("sqlite") and ":///" in url:
        return Path(url.split(":///", 1)[1]).resolve().parent / "console-files"
    return Path("console-files")


@main.command()
@click.option(
    "--db",
    "db_path",
    default="var/demo.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite file to create (replaced if present).",
)
@click.option("--verbose", is_flag=True, help="Also show every member's message.")
def demo(db_path: str, verbose: bool) -> None:
    """Play a month of a small community and print what its owner sees."""
    from bot.demo import run_demo

    config = load_config(None, env={"KEHILA_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}"})
    setup_logging(
        config.model_copy(update={"bot": config.bot.model_copy(update={"log_level": "WARNING"})})
    )
    _run(run_demo(config, Path(db_path), echo=click.echo, verbose=verbose))


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command()
@click.pass_obj
def upgrade(config_path: str | None) -> None:
    """Create or upgrade the schema to the latest migration."""
    config = _config(config_path)
    setup_logging(config)

    async def go() -> None:
        from storage.database import Database, describe_url
        from storage.migrate import current_revision
        from storage.migrate import upgrade as do_upgrade

        database = Database(config.database.url)
        try:
            await database.ping()
            await do_upgrade(database)
            click.echo(
                f"{describe_url(config.database.url)} is at revision {await current_revision(database)}"
            )
        finally:
            await database.dispose()

    _run(go())


@main.group()
def discord() -> None:
    """Discord helpers."""


@discord.command("invite-url")
@click.pass_obj
def invite_url(config_path: str | None) -> None:
    """Print the URL that adds the bot to a server, with exactly the permissions it needs."""
    config = _config(config_path)
    from adapters.discord import invite_url as make_url

    try:
        click.echo(make_url(config))
    except ValueError as exc:
        _exit(str(exc), EXIT_CONFIG)


if __name__ == "__main__":
    main()
