"""The composition root: the one place that knows every layer.

    app = App(config, clock=FakeClock(), adapters=[ConsoleAdapter(...)])
    await app.start()            # database, migrations, index, jobs, adapters
    await app.dispatch(event)    # returns when the event is fully handled
    await app.advance(days=7)    # fake clock only: fires due jobs, sends queued rows
    await app.outbox.drain()     # fake clock only: sends what the outbox holds due now
    await app.stop()             # drain, outbox, adapters, jobs, final flush, database

Adapters are imported by name, lazily (`build_adapters`), so a Telegram-only
deployment never imports discord.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
import os
import socket
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from bot.clock import Clock, FakeClock, SystemClock
from bot.config import Config, ConfigError
from bot.context import store_schedule
from bot.directory import CommunityInfo, Directory, MemberRef
from bot.dispatcher import Dispatcher
from bot.events import Event, SettingsRejected
from bot.feature import Feature, Setting
from bot.features import all_features
from bot.outbox import Outbox
from bot.ports import Adapter, AdaptersUnavailable
from bot.redact import describe_error
from bot.schedule import ScheduleEntry
from bot.services import Services
from storage.database import Database, StorageUnavailable
from storage.migrate import upgrade
from storage.unit_of_work import UnitOfWork

log = logging.getLogger("kehila")

__all__ = ["AdaptersUnavailable", "App", "StorageUnavailable", "build_adapters"]

# /readyz: how long the database may take to answer before it counts as unreachable.
READY_DB_TIMEOUT_S = 2.0


def build_adapters(config: Config, names: Sequence[str]) -> list[Adapter]:
    """Create adapters by platform name, importing each package only when asked."""
    adapters = []
    for name in names:
        module = importlib.import_module(f"adapters.{name}")
        adapters.append(module.create_adapter(config))
    return adapters


def _settings(features: Sequence[Feature]) -> dict[str, Setting]:
    specs: dict[str, Setting] = {}
    for feature in features:
        for setting in feature.settings:
            if setting.key in specs:
                raise ValueError(f"setting {setting.key} declared twice")
            specs[setting.key] = setting
    return specs


class App:
    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        adapters: Sequence[Adapter] = (),
        features: Sequence[Feature] | None = None,
        instance_id: str | None = None,
    ) -> None:
        from jobs.scheduler import Timer

        self.config = config
        self.clock = clock or SystemClock()
        features = list(features if features is not None else all_features())
        self.services = Services(
            config=config,
            clock=self.clock,
            db=Database(config.database.url, echo=config.database.echo),
            directory=Directory(_settings(features)),
            timer=Timer(self.clock, fake=isinstance(self.clock, FakeClock)),
            features=features,
            adapters={a.platform: a for a in adapters},
            instance_id=instance_id or f"{socket.gethostname()}:{os.getpid()}",
        )
        for feature in features:
            for repository in feature.repositories:
                self.services.db.register_repository(repository)
        self.services.build_states()
        self.dispatcher = Dispatcher(self.services, features)
        self.started = False
        # Stopping: /readyz says not ready, while work under way finishes.
        self.stopping = False
        self.web: Any = None  # bot.web.WebServer, when [web] listen is set
        # Communities whose stored settings were refused at start (see `_checked`).
        self._rejected: dict[int, tuple[str, ...]] = {}

    @property
    def directory(self) -> Directory:
        return self.services.directory

    @property
    def outbox(self) -> Outbox:
        return self.services.outbox

    async def start(self, *, migrate: bool | None = None) -> None:
        services = self.services
        self.stopping = False
        await self._start_web()
        try:
            await services.db.ping()
        except BaseException:
            await self._stop_web()
            raise
        if migrate if migrate is not None else self.config.database.migrate_on_start:
            await upgrade(services.db)
        # On PostgreSQL: listen to the other processes, then load (bot/sync.py).
        await services.sync.start(self._load_index, self.reload_index)
        for feature in services.features:
            for hook in feature.startup:
                await hook(services)
        async with UnitOfWork(services.db) as uow:
            rows = await uow.jobs.all()
        from jobs.scheduler import entries_from_rows

        await services.timer.start(entries_from_rows(rows), self.dispatcher.dispatch)
        # As the dispatcher routes them: shared groups (`/export`) merged into one.
        commands = list(self.dispatcher.commands.values())
        failed: list[str] = []
        for name, adapter in list(services.adapters.items()):
            try:
                # Straight to the dispatcher: one frame less on every message.
                await adapter.start(self.dispatcher.submit)
                await adapter.publish_commands(commands)
            except Exception as exc:
                # One platform down (network, a revoked token) does not stop the others.
                reason = describe_error(exc)
                log.error("could not start %s (%s); going on without it", name, reason)
                failed.append(f"{name}: {reason}")
                del services.adapters[name]
                with contextlib.suppress(Exception):
                    await adapter.stop()
        if failed and not services.adapters:
            await self.stop()
            raise AdaptersUnavailable("; ".join(failed))
        # The system clock: the worker sends in the background. The fake clock:
        # `drain` and `advance` send (tests, the console, the demo).
        await services.outbox.start(background=not isinstance(self.clock, FakeClock))
        self.started = True
        for community_id, keys in self._rejected.items():
            await self.dispatch(
                SettingsRejected(community_id=community_id, keys=keys, at=self.clock.now())
            )
        self._rejected.clear()
        log.info(
            "Kehila started: %d communities, %d members, adapters: %s",
            len(self.directory.communities),
            len(self.directory.by_id),
            ", ".join(services.adapters) or "none",
        )

    async def _load_index(self, directory: Directory | None = None) -> None:
        directory = directory or self.directory
        async with UnitOfWork(self.services.db) as uow:
            communities = await uow.communities.all()
            settings = await uow.settings.all()
            spaces = await uow.spaces.claimed()
            identities = await uow.members.index()
        for c in communities:
            stored = settings.get(c.id, {})
            valid, rejected = self._checked(stored)
            if rejected:
                log.warning(
                    "community %s: stored settings not valid, defaults used: %s",
                    c.id,
                    ", ".join(rejected),
                )
                self._rejected[c.id] = tuple(rejected)
            directory.add_community(
                CommunityInfo(c.id, c.name, c.timezone, c.locale, settings=valid)
            )
        for s in spaces:
            if s.active:
                directory.set_space(s.platform, s.external_id, s.community_id)
        for row in identities:  # one row per account; a member's accounts join it
            directory.add_member(
                MemberRef(
                    row.member_id,
                    row.community_id,
                    row.platform,
                    row.user_id,
                    row.display_name,
                    row.role,
                )
            )

    def _checked(self, stored: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Stored settings that are still valid, and the keys of those that are not."""
        return self.directory.valid_settings(stored)

    async def reload_index(self) -> None:
        """The whole index anew from storage, swapped in at once (after this process
        lost its connection to the others: what it missed is in the database)."""
        fresh = Directory(self.directory.setting_specs)
        await self._load_index(fresh)
        self._rejected.clear()  # the owners heard of those at start
        self.directory.replace_with(fresh)

    # --- health and metrics (bot/web.py) ---

    async def _start_web(self) -> None:
        section = self.config.web
        if section.listen is None or self.web is not None:
            return
        from bot.web import WebServer

        host, port = section.address
        services = self.services
        pages = [
            (path, functools.partial(handler, services))
            for feature in services.features
            for path, handler in feature.pages.items()
        ]
        server = WebServer(services.metrics, self.readiness, host, port, pages)
        try:
            await server.start()
        except OSError as exc:
            raise ConfigError(
                f"web.listen = {section.listen!r}: cannot listen there ({exc.strerror or exc})"
            ) from None
        self.web = server

    async def _stop_web(self) -> None:
        if self.web is not None:
            await self.web.stop()
            self.web = None

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        """What /readyz reports: the database answers, every platform is connected,
        the process listens to the others (PostgreSQL), and it is not stopping."""
        services = self.services
        try:
            await asyncio.wait_for(services.db.ping(), READY_DB_TIMEOUT_S)
            database = "ok"
        except Exception:
            database = "unreachable"
        platforms = {
            name: "connected" if getattr(adapter, "connected", True) else "disconnected"
            for name, adapter in services.adapters.items()
        }
        state = "stopping" if self.stopping else "running" if self.started else "starting"
        sync = "listening" if services.sync.connected else "reconnecting"
        ready = (
            state == "running"
            and database == "ok"
            and all(v == "connected" for v in platforms.values())
            and services.sync.connected
        )
        return ready, {"state": state, "database": database, "platforms": platforms, "sync": sync}

    async def dispatch(self, event: Event) -> None:
        await self.dispatcher.dispatch(event)

    async def advance(self, delta: timedelta | None = None, **kwargs: float) -> int:
        """Fake clock only: move time forward, firing due jobs and sending the
        outbox's rows as they come due, in time order. Returns how many jobs fired."""
        step = delta if delta is not None else timedelta(**kwargs)
        timer, outbox = self.services.timer, self.services.outbox
        target = self.clock.now() + step
        fired = 0
        await outbox.drain()
        while True:
            job_at = timer.next_due_at(target)
            row_at = await outbox.next_due()
            if row_at is not None and row_at <= target and (job_at is None or row_at < job_at):
                await timer.advance_to(row_at)  # no job is due before it: the clock only
            elif job_at is not None:
                fired += await timer.advance_to(max(job_at, self.clock.now()))
            else:
                break
            await outbox.drain()
        return fired + await timer.advance_to(target)

    async def schedule(self, entry: ScheduleEntry) -> None:
        """Store a schedule outside any handler (setup code, tests)."""
        async with UnitOfWork(self.services.db) as uow:
            stored = await store_schedule(uow, entry, self.clock.now())
            await uow.commit()
        self.services.timer.put(stored)

    async def stop(self) -> None:
        """Drain, then stop: no new events are taken (adapters that can pause do, the
        timer stops), the events under way finish (at most `bot.drain_timeout_s`),
        then the adapters close, the features write what they hold (counters), and
        the database is let go."""
        services = self.services
        self.stopping = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.bot.drain_timeout_s
        busy = self.dispatcher.in_flight
        if busy:
            log.info("stopping: waiting for %d event(s) under way", busy)
        for adapter in services.adapters.values():
            pause = getattr(adapter, "pause", None)
            if pause is None:
                continue
            try:
                await asyncio.wait_for(pause(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                pass
            except Exception:
                log.exception("pausing the %s adapter failed", adapter.platform)
        await services.timer.stop()
        if not await self.dispatcher.idle(max(0.0, deadline - loop.time())):
            log.warning(
                "stopping: %d event(s) still under way after %.0fs; stopping anyway",
                self.dispatcher.in_flight,
                self.config.bot.drain_timeout_s,
            )
        elif busy:
            log.info("stopping: the work under way is done")
        # Sends in flight finish while the adapters are still up; the rest waits.
        await services.outbox.stop()
        for adapter in services.adapters.values():
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping the %s adapter failed", adapter.platform)
        for feature in services.features:
            for hook in feature.shutdown:
                try:
                    await hook(services)
                except Exception:
                    log.exception("stopping %s failed", feature.name)
        await services.sync.stop()
        await self._stop_web()
        await services.db.dispose()
        self.started = False
