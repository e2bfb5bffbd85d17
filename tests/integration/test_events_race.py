"""The race for the last seat: two members press "Going" for an event's only free
seat at the same moment, in one process and in two (each `App` with its own engine,
as a separate bot process has), on SQLite and on PostgreSQL (KEHILA_TEST_BACKEND).
Exactly one gets the seat; the other is first on the waitlist."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import text

from adapters.console.adapter import ConsoleAdapter
from adapters.console.community import ConsoleCommunity
from adapters.console.script import SPACE_ID
from bot.app import App
from bot.events import Actor, ButtonPressed, ExternalEventChanged
from storage.database import Database

ROUNDS = 5


async def rows(console: ConsoleCommunity, sql: str) -> list[tuple[object, ...]]:
    db = Database(console.config.database.url)
    try:
        async with db.session() as session:
            return [tuple(r) for r in (await session.execute(text(sql))).all()]
    finally:
        await db.dispose()


def press(console: ConsoleCommunity, user: str, occurrence: int) -> ButtonPressed:
    return ButtonPressed(
        platform="console",
        space_id=SPACE_ID,
        actor=Actor(user_id=user, display_name=user),
        at=console.clock.now(),
        channel_id="general",
        message_id="1",
        action_id=f"ev:g:{occurrence}",
    )


async def make_events(console: ConsoleCommunity) -> list[int]:
    """ROUNDS events with one seat each (the second already taken: one left)."""
    await console.run("/say dana hi\n/say noa hi\n/say avi hi")
    for i in range(ROUNDS):
        await console.run(
            f"/as owner\n/event create Dinner {i} | Thursday 19:00 | 2h | Here | 2\n/click 1"
        )
    found = await rows(console, "SELECT id FROM event_occurrence ORDER BY id")
    ids = [int(str(r[0])) for r in found]
    for occurrence in ids:
        await console.app.dispatch(press(console, "avi", occurrence))
    return ids


async def check(console: ConsoleCommunity, ids: list[int]) -> None:
    for occurrence in ids:
        answers = await rows(
            console,
            f"SELECT status, count(*) FROM event_rsvp WHERE occurrence_id = {occurrence} GROUP BY status",
        )
        assert dict(answers) == {"going": 2, "waiting": 1}, (occurrence, answers)
        (going,) = await rows(
            console, f"SELECT going FROM event_occurrence WHERE id = {occurrence}"
        )
        assert going == (2,)


async def test_one_process(console: ConsoleCommunity) -> None:
    ids = await make_events(console)
    for occurrence in ids:
        await asyncio.gather(
            console.app.dispatch(press(console, "dana", occurrence)),
            console.app.dispatch(press(console, "noa", occurrence)),
        )
    await check(console, ids)


@asynccontextmanager
async def second_process(console: ConsoleCommunity) -> AsyncIterator[App]:
    """Another bot process on the same database: an `App` with its own engine."""
    other = App(
        console.config,
        clock=console.clock,
        adapters=[ConsoleAdapter(now=console.clock.now)],
        instance_id="proc-2",
    )
    await other.start(migrate=False)
    try:
        yield other
    finally:
        await other.stop()


async def test_two_processes(console: ConsoleCommunity) -> None:
    ids = await make_events(console)
    async with second_process(console) as other:
        for occurrence in ids:
            await asyncio.gather(
                console.app.dispatch(press(console, "dana", occurrence)),
                other.dispatch(press(console, "noa", occurrence)),
            )
        await check(console, ids)


# --- an event made on the platform, reported twice at once ---


def made_there(console: ConsoleCommunity, external_id: str) -> ExternalEventChanged:
    """A scheduled event made in the platform's own interface, as the adapter reports
    it: live, and again in the list a (re)connect brings."""
    return ExternalEventChanged(
        platform="console",
        space_id=SPACE_ID,
        actor=None,
        at=console.clock.now(),
        external_event_id=external_id,
        title=f"Hike {external_id}",
        starts_at=console.clock.now() + timedelta(days=3),
        location="Park",
        created=True,
    )


async def imported(console: ConsoleCommunity) -> list[tuple[object, ...]]:
    return await rows(
        console,
        "SELECT external_event_id, count(*) FROM event_occurrence"
        " WHERE external_event_id IS NOT NULL GROUP BY external_event_id",
    )


async def test_an_event_reported_twice_at_once_is_imported_once(
    console: ConsoleCommunity,
) -> None:
    await console.run("/say dana hi")
    for i in range(ROUNDS):
        await asyncio.gather(
            console.app.dispatch(made_there(console, f"70{i}")),
            console.app.dispatch(made_there(console, f"70{i}")),
        )
    assert sorted(await imported(console)) == [(f"70{i}", 1) for i in range(ROUNDS)]
    (series,) = await rows(console, "SELECT count(*) FROM event_series")
    assert series == (ROUNDS,)  # the second report left nothing behind
    await console.settle()
    posted = [p.text for p in console.performed if "Hike 70" in p.text]
    assert len(posted) == ROUNDS, posted


async def test_an_event_reported_to_two_processes_is_imported_once(
    console: ConsoleCommunity,
) -> None:
    await console.run("/say dana hi")
    async with second_process(console) as other:
        for i in range(ROUNDS):
            await asyncio.gather(
                console.app.dispatch(made_there(console, f"80{i}")),
                other.dispatch(made_there(console, f"80{i}")),
            )
    assert sorted(await imported(console)) == [(f"80{i}", 1) for i in range(ROUNDS)]
