"""Linking on the console (two console accounts of one person): the rate limit, the
engagement flush that follows a merge it did not see coming, the space code's move
to the one-time codes table. Discord and Telegram: tests/adapters/linking/."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from adapters.console.community import ConsoleCommunity
from bot.actions import Reply
from bot.config import Config
from bot.features import all_features
from bot.features.engagement import engagement
from bot.sync import Changes
from storage.codes import OneTimeCode
from storage.database import Database
from storage.engagement.flush import EngagementWrites
from storage.migrate import upgrade
from storage.models import ActivityDaily
from storage.unit_of_work import UnitOfWork
from tests.conftest import START
from tests.conftest import member_ref as _ref
from tests.merging import merging_feature

CODE = re.compile(r"/link ([A-Z2-9]{4}-[A-Z2-9]{4})")


async def _code(console: ConsoleCommunity, user_id: str) -> str:
    await console.run(f"/as {user_id}\n/dm /link")
    found = CODE.search(console.last_text())
    assert found is not None, console.last_text()
    return found.group(1)


async def _messages(console: ConsoleCommunity, member_id: int) -> int:
    async with UnitOfWork(console.app.services.db) as uow:
        day = START.date()
        totals = await uow.activity.member_totals(
            member_id, day - timedelta(days=7), day + timedelta(days=7)
        )
    return totals["messages"]


async def test_codes_are_rate_limited_per_person(console: ConsoleCommunity) -> None:
    await console.run("/join dana")
    for _ in range(5):
        await _code(console, "dana")
    await console.run("/dm /link")
    assert console.last_text() == (
        "You have asked for several codes in the last hour. Please try again in 1 hour."
    )
    await console.run("/advance 30m\n/as dana\n/dm /link")
    assert console.last_text().endswith("Please try again in 30 minutes.")
    await console.run("/advance 31m")
    await _code(console, "dana")


async def test_a_code_is_only_shown_to_the_one_who_asked(console: ConsoleCommunity) -> None:
    await console.run("/join dana\n/as dana\n/link")  # in the channel: answered privately
    assert CODE.search(console.seen_by("@dana")[-1])
    assert not any(CODE.search(t) for t in console.seen_by("#general"))


async def test_a_flush_under_way_when_the_merge_commits_writes_to_the_person(
    console: ConsoleCommunity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flush took dana2's counts out of memory, then the merge committed before it
    wrote them: they are written to Dana, none to the member that is gone."""
    await console.run("/join dana\n/join dana2\n/say dana hi\n/say dana2 one\n/say dana2 two")
    dana, dana2 = _ref(console, "dana"), _ref(console, "dana2")
    state = engagement(console.app.services)
    merged, writing = asyncio.Event(), asyncio.Event()
    real = EngagementWrites.flush

    async def held(self: EngagementWrites, rows: Any, *, alone: bool) -> Any:
        writing.set()
        await merged.wait()
        return await real(self, rows, alone=alone)

    monkeypatch.setattr(EngagementWrites, "flush", held)
    flushing = asyncio.create_task(state.flush())
    await writing.wait()
    code = await _code(console, "dana")
    await console.run(f"/as dana2\n/dm /link {code}")
    assert console.last_text().startswith("Linked:")
    merged.set()
    await flushing
    monkeypatch.setattr(EngagementWrites, "flush", real)
    await state.flush()
    assert await _messages(console, dana.id) == 3
    async with UnitOfWork(console.app.services.db) as uow:
        rows = await uow.session.scalar(
            select(func.count())
            .select_from(ActivityDaily)
            .where(ActivityDaily.member_id == dana2.id)
        )
    assert rows == 0
    quarantine = Path(console.config.bot.data_dir or ".") / "engagement-quarantine.jsonl"
    assert not quarantine.exists()


async def test_counts_held_for_a_member_another_process_merged_go_to_the_person(
    config: Config, tmp_path: Path
) -> None:
    """Two processes on one database: this one still holds dana2's counts when the
    other merges her into Dana. Learning the change (bot/sync.py), its flush writes
    them to Dana."""
    first = ConsoleCommunity(config, start=START, files_dir=tmp_path / "a")
    await first.start(migrate=False)
    second: ConsoleCommunity | None = None
    try:
        await first.run("/setup Club\n/join dana\n/join dana2\n/say dana2 one\n/say dana2 two")
        dana, dana2 = _ref(first, "dana"), _ref(first, "dana2")
        second = ConsoleCommunity(
            config,
            start=START,
            files_dir=tmp_path / "b",
            features=[*all_features(), merging_feature()],
        )
        await second.start(migrate=False)
        await second.run("/as owner\n/merge dana2 dana")
        assert second.last_text() == "Merged."
        await first.app.services.sync.apply(Changes(members={dana.id, dana2.id}))
        assert _ref(first, "dana2") is dana
        await engagement(first.app.services).flush()
        assert await _messages(first, dana.id) == 2
        async with UnitOfWork(first.app.services.db) as uow:
            assert await uow.members.get(dana2.id) is None
    finally:
        if second is not None:
            await second.stop()
        await first.stop()


async def test_the_space_code_kept_as_a_setting_moves_to_the_codes_table(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(db, "0006_outbox")
        async with db.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO community (id, name, timezone, locale, created_at) "
                    "VALUES (1, 'Cafe', 'UTC', 'en', '2026-03-02 08:00:00')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO community_setting (community_id, key, value) VALUES (1, "
                    '\'community.link_code\', \'{"code": "ABCD-EFGH", "expires": '
                    "\"2026-03-02T09:00:00+00:00\"}'), (1, 'digest.hour', '7')"
                )
            )
        await upgrade(db)
        async with UnitOfWork(db) as uow:
            settings = await uow.settings.of(1)
            found = await uow.codes.find("space", "ABCD-EFGH")
            rows = await uow.session.scalar(select(func.count()).select_from(OneTimeCode))
    finally:
        await db.dispose()
    assert settings == {"digest.hour": 7}
    assert found is not None and found.community_id == 1 and found.used_at is None
    assert found.expires_at.isoformat() == "2026-03-02T09:00:00+00:00"
    assert rows == 1


async def test_mydata_from_either_account_lists_both_and_the_codes(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join dana\n/join dana2")
    code = await _code(console, "dana")
    await console.run(f"/as dana2\n/dm /link {code}\n/dm /mydata")
    reply = console.actions(Reply)[-1]
    assert isinstance(reply, Reply) and reply.attachments
    exported = json.loads(reply.attachments[0].data)
    assert sorted(a["user_id"] for a in exported["accounts"]) == ["dana", "dana2"]
    [used] = exported["linking"]["codes"]
    assert used["kind"] == "link" and used["used_at"] is not None


async def test_hebrew_says_an_owner_linked_them_not_an_administrator(
    console: ConsoleCommunity,
) -> None:
    await console.run("/config set locale he\n/join dana\n/join dana2\n/members link dana dana2")
    told = [t for t in console.seen_by("@dana") if "/unlink" in t]
    assert told and told[-1].lstrip("\u200f").startswith("אחד מבעלי Test Community קישר")


async def test_linking_a_member_with_a_moderator_says_the_role_they_have_now(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join dana\n/join mod\n/staff set moderator mod\n/members link dana mod")
    assert console.last_text().endswith(
        "dana is moderator now, the higher role of the two (/staff changes it)."
    )
    await console.run("/join eli\n/members link dana eli")  # no rise: nothing said
    assert "higher role" not in console.last_text()
    await console.run("/config set locale de\n/join gil\n/members link gil owner")
    assert console.last_text().endswith(
        "gil hat jetzt die Rolle Eigentümer, die höhere der beiden (/staff ändert sie)."
    )
