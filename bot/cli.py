"""The `kehila` command line.

kehila run              the adapters whose tokens are set (else the console)
kehila console          an offline community in this terminal (--data DIR, --script FILE)
kehila demo             a scripted month of a small community, in seconds (--data DIR)
kehila db upgrade       bring the database schema up to date
kehila db status        the database's revision and the migrations pending (--check)
kehila db current       the database's revision alone (for scripts)
kehila discord invite-url
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from bot import __version__, redact
from bot.config import Config, ConfigError, load_config
from bot.logging_setup import setup_logging
from bot.ports import AdaptersUnavailable
from bot.services import Services
from storage.database import StorageUnavailable

if TYPE_CHECKING:
    from adapters.console.community import ConsoleCommunity
    from adapters.console.world import ConsoleData
    from storage.database import Database

EXIT_CONFIG = 2
EXIT_STORAGE = 3
EXIT_PLATFORMS = 4
# Counts could not be written to the database at stop: kept in the spill file (the
# next start writes them), or, when that failed too, lost. The message says which.
EXIT_DATA_AT_RISK = 5


class DataAtRisk(Exception):
    """Kehila stopped without writing every count to the database."""


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
        sys.exit(EXIT_PLATFORMS)
    except DataAtRisk as exc:
        click.echo(f"kehila: {exc}", err=True)
        sys.exit(EXIT_DATA_AT_RISK)
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
        _run_console(config, data_dir=None, script=None)
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
        _all_written(app.services)
        return
    try:
        starting.result()  # a start that failed raises here, with its exit code
        await stopping
    finally:
        stopping.cancel()
        if app.started:
            await app.stop()
    _all_written(app.services)


def _all_written(services: Services) -> None:
    """Raise `DataAtRisk` when the last counts could not be written at stop."""
    from bot.features.engagement.counting import unwritten

    left = unwritten(services)
    if left is None:
        return
    what = f"{left.events:,} counted events could not be written to the database ({left.reason})"
    if left.kept_in is None:
        raise DataAtRisk(f"{what} and could not be kept in a file either: they are lost")
    raise DataAtRisk(f"{what}; they are kept in {left.kept_in} and written at the next start")


@main.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False),
    help="The console's folder: its database (unless the configuration names one), "
    "files, log, clock and who is here. Default: var/console.",
)
@click.option(
    "--script",
    type=click.Path(exists=True, dir_okay=False),
    help="Read the lines from a file instead of the keyboard.",
)
@click.pass_obj
def console(config_path: str | None, data_dir: str | None, script: str | None) -> None:
    """An offline community in this terminal: act as any member (/as NAME, /join NAME, /advance 3d)."""
    _run_console(
        _config(config_path),
        data_dir=Path(data_dir) if data_dir else None,
        script=Path(script) if script else None,
    )


def _run_console(config: Config, *, data_dir: Path | None, script: Path | None) -> None:
    from adapters.console.world import DEFAULT_DATA_DIR, ConsoleData

    data = ConsoleData(data_dir or DEFAULT_DATA_DIR)
    config = data.configure(config)
    # The conversation has the terminal to itself: the log goes to the data folder.
    setup_logging(config, log_file=data.log)
    _run(_console(config, data, script))


async def _console(config: Config, data: ConsoleData, script: Path | None) -> None:
    from adapters.console.community import ConsoleCommunity
    from adapters.console.script import ScriptError

    community = ConsoleCommunity(config, echo=click.echo, data=data)
    await community.start()
    session = community.session
    click.echo(_console_banner(community, data))
    try:
        if script is not None:
            for line in script.read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    click.echo(f"{session.actor.name}@{session.where}> {line}")
                try:
                    await session.line(line)
                except ScriptError as exc:
                    click.echo(f"  {exc.show()}")
                community.save()
            return
        while True:
            try:
                line = await asyncio.to_thread(input, f"{session.actor.name}@{session.where}> ")
            except EOFError:
                break
            if line.strip() in ("/quit", "/exit"):
                break
            try:
                await session.line(line)
            except ScriptError as exc:
                click.echo(f"  {exc.show()}")
            community.save()  # a run killed now still goes on from here next time
    finally:
        await community.stop()
    _all_written(community.app.services)


def _console_banner(community: ConsoleCommunity, data: ConsoleData) -> str:
    from storage.database import describe_url

    now = community.clock.now()
    where = (
        f"Kept in {data.root}/ (database, files, log). "
        if data.uses_own_database(community.config)
        else f"Database: {describe_url(community.config.database.url)}; "
        f"files, log and clock in {data.root}/. "
    )
    lines = [
        f"Kehila console: {'back on' if community.resumed else 'a new room,'} "
        f"{now:%a %d %b %Y, %H:%M} UTC; time moves only with /advance.",
        where + "/console lists the console's own lines, /help the bot's commands, /quit ends.",
    ]
    if community.app.directory.community_of("console", "console") is None:
        lines.append(
            f"You are {community.session.actor.name}, the room's admin: start with /setup NAME."
        )
    return "\n".join(lines)


def _self_command() -> str:
    """How to run `kehila` again from here: as it was started (`.venv/bin/kehila`,
    `kehila` on PATH, or `python -m bot.cli`)."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "kehila":
        on_path = shutil.which("kehila")
        if on_path and Path(on_path).resolve() == argv0.resolve():
            return "kehila"
        return str(argv0)
    return f"{sys.executable} -m bot.cli"


@main.command()
@click.option(
    "--data",
    "data_dir",
    default="var/demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the demo's database, files, log and clock (its community is replaced).",
)
@click.option("--verbose", is_flag=True, help="Also show every member's message.")
def demo(data_dir: str, verbose: bool) -> None:
    """Play a month of a small community and print what its owner sees."""
    from adapters.console.world import ConsoleData
    from bot.demo import run_demo

    data = ConsoleData(Path(data_dir))
    data.reset()
    config = load_config(None, env={"KEHILA_DATABASE_URL": f"sqlite+aiosqlite:///{data.database}"})
    setup_logging(config, log_file=data.log)
    then = f"{_self_command()} console --data {shlex.quote(data_dir)}"
    _run(run_demo(config, data, echo=click.echo, verbose=verbose, then=then))


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command()
@click.pass_obj
def upgrade(config_path: str | None) -> None:
    """Create or upgrade the schema to the latest migration."""

    async def work(database: Database) -> int:
        from storage.database import describe_url
        from storage.migrate import current_revision
        from storage.migrate import upgrade as do_upgrade

        await do_upgrade(database)
        click.echo(
            f"{describe_url(database.url)} is at revision {await current_revision(database)}"
        )
        return 0

    _with_database(config_path, work)


def _with_database(config_path: str | None, work: Callable[[Database], Awaitable[int]]) -> None:
    """Run `work` on the configured database; its result is the exit code."""
    config = _config(config_path)
    setup_logging(config)
    code = 0

    async def go() -> None:
        nonlocal code
        from storage.database import Database

        database = Database(config.database.url)
        try:
            await database.ping()
            code = await work(database)
        finally:
            await database.dispose()

    _run(go())
    sys.exit(code)


@db.command()
@click.option(
    "--check", is_flag=True, help="Exit with code 1 when a migration is pending (for scripts)."
)
@click.pass_obj
def status(config_path: str | None, check: bool) -> None:
    """Say the database's revision and the migrations this version would apply."""

    async def work(database: Database) -> int:
        from storage.database import describe_url
        from storage.migrate import status as read_status

        where = describe_url(database.url)
        st = await read_status(database)
        if not st.known:
            click.echo(
                f"{where} is at revision {st.current}, which this version of Kehila does not "
                f"know (its latest is {st.head}): a newer version upgraded it. Run that "
                "version or a later one; do not downgrade."
            )
            return 1 if check else 0
        at = f"is at revision {st.current}" if st.current else "has no schema yet"
        if not st.pending:
            click.echo(f"{where} {at}: up to date.")
            return 0
        n = len(st.pending)
        click.echo(
            f"{where} {at}; {n} migration{'s' if n > 1 else ''} pending, "
            "applied by `kehila db upgrade` (or at start):"
        )
        for rev in st.pending:
            click.echo(f"  {rev.id}  {rev.title}".rstrip())
        return 1 if check else 0

    _with_database(config_path, work)


@db.command()
@click.pass_obj
def current(config_path: str | None) -> None:
    """Print the database's revision alone (`none` for an empty database)."""

    async def work(database: Database) -> int:
        from storage.migrate import current_revision

        click.echo(await current_revision(database) or "none")
        return 0

    _with_database(config_path, work)


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
