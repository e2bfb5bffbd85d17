"""A whole Kehila on the console: the app, the console adapter, a fake clock and the
line interpreter, wired once for the REPL, the demo and the tests alike.

Given a data folder (`ConsoleData`), the console keeps its world and its clock there
(`world.py`): the next run goes on from the moment and the room the last one left.

The outbox's worker does not run by itself on the fake clock: after each line the
console sends what is due (`app.outbox.drain()`), and `/advance` sends rows as they
come due. A test that dispatches events itself drains when it wants them sent."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.console import world
from adapters.console.adapter import ConsoleAdapter, Performed
from adapters.console.script import ConsoleSession
from adapters.console.world import ConsoleData
from bot.actions import Action
from bot.app import App
from bot.clock import FakeClock
from bot.config import Config
from bot.feature import Feature

log = logging.getLogger("kehila.console")


class ConsoleCommunity:
    def __init__(
        self,
        config: Config,
        *,
        start: datetime | None = None,
        echo: Callable[[str], None] | None = None,
        files_dir: Path | None = None,
        title: str = "Console community",
        features: Sequence[Feature] | None = None,
        data: ConsoleData | None = None,
    ) -> None:
        """With DATA, the world and the clock kept there are taken up again (START
        then only applies to a new world), and kept there at every `save()` and at
        the stop; the files the bot sends go to its folder unless FILES_DIR says."""
        self.config = config
        self.features = features
        self.data = data
        kept = self._kept_world()
        if kept is not None:
            start = world.clock_of(kept)
        self.clock = FakeClock(start or datetime.now(UTC).replace(microsecond=0))
        self.echo = echo
        self.files_dir = files_dir or (data.files if data else None)
        self.title = title
        self._build()
        self.resumed = kept is not None and self._restore(kept)

    def _kept_world(self) -> dict[str, Any] | None:
        if self.data is None:
            return None
        if self.data.uses_own_database(self.config) and not self.data.database.exists():
            return None  # the community it belonged to is gone
        return world.load(self.data.world)

    def _restore(self, kept: dict[str, Any]) -> bool:
        try:
            world.restore(self.adapter, kept)
        except (KeyError, TypeError, ValueError, IndexError):
            self.adapter.members.clear()  # unreadable: a new world, on the kept clock
            return False
        self.session.actor = self.adapter.member(str(kept.get("actor") or self.adapter.admin))
        self.session.channel = str(kept.get("channel") or self.adapter.room)
        return True

    def _build(self) -> None:
        self.adapter = ConsoleAdapter(
            room=self.config.console.room,
            admin=self.config.console.admin,
            echo=self.echo,
            files_dir=self.files_dir,
            now=self.clock.now,
        )
        self.app = App(
            self.config, clock=self.clock, adapters=[self.adapter], features=self.features
        )
        self.session = ConsoleSession(
            self.adapter, self.advance, title=self.title, settle=self.settle
        )

    async def start(self, *, migrate: bool | None = None) -> None:
        await self.app.start(migrate=migrate)
        await self.session.open()
        await self.settle()

    async def stop(self) -> None:
        await self.app.stop()
        self.save()

    def save(self) -> None:
        """Keep the world and the clock in the data folder (if any), for the next run."""
        if self.data is not None:
            world.save(self.data.world, self._snapshot(texts=False))

    def _snapshot(self, *, texts: bool) -> dict[str, Any]:
        kept = world.snapshot(self.adapter, self.clock.now(), texts=texts)
        return {**kept, "actor": self.session.actor.handle, "channel": self.session.channel}

    async def restart(self) -> None:
        """Stop and start again on the same database, as after a crash or deploy.
        The console world (who is present, DMs closed) carries over; buttons shown
        before the restart can still be clicked."""
        kept = self._snapshot(texts=True)
        await self.app.stop()
        self._build()
        self._restore(kept)
        await self.app.start(migrate=False)
        await self.settle()  # what the start queued (a digest run late, a notice)

    async def settle(self) -> None:
        """Send what the outbox holds due now, as the worker would at once. A failure
        (the database unreachable) is logged and the rows stay queued, as with the
        worker, for the next line."""
        try:
            await self.app.outbox.drain()
        except Exception:
            log.exception("the outbox could not be sent now; it stays queued")

    async def advance(self, delta: timedelta) -> int:
        """Let time pass: due jobs fire and the outbox's rows go as they come due."""
        return await self.app.advance(delta)

    async def run(self, text: str) -> None:
        await self.session.run(text)

    # --- what happened (for tests and the demo) ---

    @property
    def performed(self) -> list[Performed]:
        return self.adapter.performed

    def actions(self, kind: type[Action] | None = None) -> list[Action]:
        return [p.action for p in self.performed if kind is None or isinstance(p.action, kind)]

    def seen_by(self, audience: str) -> list[str]:
        """Texts shown to `@name` (privately) or in `#channel`."""
        return [p.text for p in self.performed if p.audience == audience]

    def last_text(self) -> str:
        return self.performed[-1].text if self.performed else ""

    def clear(self) -> None:
        self.adapter.performed.clear()
