"""Two Kehilas on one PostgreSQL agree: what one changes, the other's memory learns
within a second, through LISTEN/NOTIFY (bot/sync.py). Two apps in one test loop here,
each with its own pool and listening connection, for the detailed cases; two real
`kehila` processes in tests/e2e/test_processes.py.

Nothing sleeps: each wait is for the other app's `applied` signal, bounded.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from adapters.console.community import ConsoleCommunity
from bot.config import Config
from bot.features import all_features
from bot.features.engagement import engagement
from bot.resolution import find_member
from bot.sync import Changes
from storage.unit_of_work import UnitOfWork
from tests.conftest import BACKEND, START
from tests.merging import merging_feature

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="LISTEN/NOTIFY is PostgreSQL's")

# Generous for a loaded machine; the benchmark measures the real figure (milliseconds).
WAIT_S = 10.0


class Watch:
    """The changes another app applied, awaited one at a time."""

    def __init__(self, app: ConsoleCommunity) -> None:
        self.queue: asyncio.Queue[Changes | None] = asyncio.Queue()
        app.app.services.sync.applied.append(self.queue.put_nowait)

    async def next(self) -> Changes | None:
        return await asyncio.wait_for(self.queue.get(), WAIT_S)

    async def until(self, check: Any) -> None:
        """Applied changes until `check()` holds (each one is a reload from storage)."""
        while not check():
            await self.next()


@pytest.fixture
async def pair(
    config: Config, tmp_path: Path
) -> AsyncIterator[tuple[ConsoleCommunity, ConsoleCommunity]]:
    features = [*all_features(), merging_feature()]
    first = ConsoleCommunity(config, start=START, files_dir=tmp_path / "a", features=features)
    second = ConsoleCommunity(config, start=START, files_dir=tmp_path / "b", features=features)
    await first.start(migrate=False)
    await second.start(migrate=False)
    try:
        yield first, second
    finally:
        await first.stop()
        await second.stop()


async def test_a_community_set_up_in_one_is_known_to_the_other(
    pair: tuple[ConsoleCommunity, ConsoleCommunity],
) -> None:
    first, second = pair
    watch = Watch(second)
    await first.run("/setup Club")
    directory = second.app.directory
    await watch.until(lambda: directory.community_of("console", "console") is not None)
    community = directory.community_of("console", "console")
    assert community is not None and community.name == "Club"
    owner = directory.member(community.id, "console", "owner")
    assert owner is not None and owner.role == "owner"
    assert ("console", "console") in community.spaces


async def test_settings_fields_and_the_schedule_follow(
    pair: tuple[ConsoleCommunity, ConsoleCommunity],
) -> None:
    first, second = pair
    watch = Watch(second)
    await first.run("/setup Club")
    directory = second.app.directory
    await watch.until(lambda: directory.community_of("console", "console") is not None)
    community = directory.community_of("console", "console")
    assert community is not None

    await first.run("/config set digest.hour 7")
    await watch.until(lambda: directory.setting(community, "digest.hour") == 7)
    # The digest's schedule moved in the other process's timer too: it would
    # otherwise fire at the old hour there.
    timer = second.app.services.timer
    await watch.until(
        lambda: (
            (timer.entries.get(("engagement.digest", f"community:{community.id}")) or _NO).cron
            == {"day_of_week": "mon", "hour": 7, "minute": 0}
        )
    )

    await first.run("/config set timezone Asia/Jerusalem")
    await watch.until(lambda: community.timezone == "Asia/Jerusalem")
    assert str(community.tz) == "Asia/Jerusalem"
    await first.run("/config set locale he")
    await watch.until(lambda: community.locale == "he")
    await first.run("/config set name Café Club")
    await watch.until(lambda: community.name == "Café Club")

    await first.run("/config reset digest.hour")
    await watch.until(lambda: "digest.hour" not in community.settings)
    assert directory.setting(community, "digest.hour") == 9


class _No:
    cron = None


_NO = _No()


async def test_roles_merges_and_deletions_follow(
    pair: tuple[ConsoleCommunity, ConsoleCommunity],
) -> None:
    first, second = pair
    watch = Watch(second)
    await first.run("/setup Club")
    await first.run("/join dana\n/say dana hello\n/join dana2\n/say dana2 hi")
    directory = second.app.directory
    await watch.until(lambda: directory.community_of("console", "console") is not None)
    community = directory.community_of("console", "console")
    assert community is not None
    # The second process learns dana on its first miss (no announcement needed).
    dana = await find_member(second.app.services, community, "console", "dana")
    dana2 = await find_member(second.app.services, community, "console", "dana2")
    assert dana is not None and dana2 is not None and dana.role == "member"

    await first.run("/staff set moderator dana")
    await watch.until(lambda: dana.role == "moderator")
    assert [m.id for m in directory.staff(community.id, ("moderator",))] == [dana.id]

    await first.run("/merge dana2 dana")
    await watch.until(lambda: dana2.id not in directory.by_id)
    merged = directory.member(community.id, "console", "dana2")
    assert merged is dana  # dana2's account is dana's now, in the other process too
    assert {a.user_id for a in dana.accounts} == {"dana", "dana2"}

    await first.run("/as dana\n/forgetme")
    await first.run("/click 1")  # "Yes, delete my data"
    await watch.until(lambda: dana.id not in directory.by_id)
    assert directory.member(community.id, "console", "dana") is None
    assert directory.member(community.id, "console", "dana2") is None


async def test_a_code_from_one_process_links_in_the_other_and_both_see_it(
    pair: tuple[ConsoleCommunity, ConsoleCommunity],
) -> None:
    """Dana asks for a code where one process serves her, and uses it on her other
    account, served by the other process: both know one person at once, and counts
    the first still holds for her other account are written to her."""
    first, second = pair
    watch = Watch(second)
    back = Watch(first)
    await first.run("/setup Club")
    directory = second.app.directory
    await watch.until(lambda: directory.community_of("console", "console") is not None)
    community = directory.community_of("console", "console")
    assert community is not None
    await first.run("/join dana\n/join dana2\n/say dana2 held in memory")
    dana = await find_member(second.app.services, community, "console", "dana")
    dana2 = await find_member(second.app.services, community, "console", "dana2")
    assert dana is not None and dana2 is not None

    await first.run("/as dana\n/dm /link")
    found = re.search(r"/link ([A-Z2-9]{4}-[A-Z2-9]{4})", first.last_text())
    assert found is not None
    await second.run(f"/as dana2\n/dm /link {found.group(1)}")
    assert second.last_text().startswith("Linked:")
    mine = first.app.directory
    await back.until(
        lambda: (
            mine.member(community.id, "console", "dana2") is not None
            and mine.member(community.id, "console", "dana2").id == dana.id
        )
    )
    assert dana2.id not in mine.by_id
    await engagement(first.app.services).flush()  # dana2's message, counted before
    async with UnitOfWork(first.app.services.db) as uow:
        day = START.date()
        totals = await uow.activity.member_totals(dana.id, day, day + timedelta(days=1))
    assert totals["messages"] == 1

    await second.run("/as dana2\n/dm /unlink")
    await back.until(
        lambda: (
            mine.member(community.id, "console", "dana2") is not None
            and mine.member(community.id, "console", "dana2").id != dana.id
        )
    )
    assert [a.user_id for a in mine.by_id[dana.id].accounts] == ["dana"]


async def test_a_lost_connection_is_opened_again_and_the_index_reloaded(
    pair: tuple[ConsoleCommunity, ConsoleCommunity],
) -> None:
    first, second = pair
    watch = Watch(second)
    await first.run("/setup Club")
    directory = second.app.directory
    await watch.until(lambda: directory.community_of("console", "console") is not None)
    community = directory.community_of("console", "console")
    assert community is not None
    listening = second.app.services.sync.listening
    assert listening is not None and listening.server_pid is not None
    # A change the other process is never told about (written by hand)...
    async with first.app.services.db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO community_setting (community_id, key, value) VALUES (:c, 'digest.hour', '11')"
            ),
            {"c": community.id},
        )
        # ...and its listening connection cut by the server.
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": listening.server_pid})
    # It listens again, and reloads everything: the hand-written change is there.
    while (changes := await watch.next()) is not None:
        pass
    reloaded = directory.community_of("console", "console")
    assert reloaded is not None and directory.setting(reloaded, "digest.hour") == 11
    assert second.app.services.sync.listening is not None
    assert second.app.services.sync.listening.server_pid != listening.server_pid
    assert second.app.services.metrics.sync_reloads == 1
    ready, checks = await second.app.readiness()
    assert ready and checks["sync"] == "listening"
    # And hears the first one again.
    await first.run("/config set digest.hour 6")
    await watch.until(lambda: directory.setting(reloaded, "digest.hour") == 6)
    del changes
