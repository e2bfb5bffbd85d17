"""Two webhook workers on one database (issue #12): a reply handled by one worker to a
member only the other worker has seen still counts as a reply between members, the
digest's main health signal."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from adapters.console.community import ConsoleCommunity
from bot.config import Config
from bot.events import Actor, MessagePosted
from bot.features.engagement import engagement
from storage.unit_of_work import UnitOfWork
from tests.conftest import START


async def test_a_reply_to_a_member_the_other_worker_saw_is_counted(
    config: Config, tmp_path: Path
) -> None:
    first = ConsoleCommunity(config, start=START, files_dir=tmp_path / "a")
    second = ConsoleCommunity(config, start=START, files_dir=tmp_path / "b")
    await first.start(migrate=False)
    await first.run("/setup Shared")
    await second.start(migrate=False)
    try:
        # Only the first worker sees the ten members join and post.
        for i in range(10):
            await first.run(f"/join m{i}\n/say m{i} hello from m{i}")
        await engagement(first.app.services).flush()
        # The second worker gets the replies to them, as a webhook delivers them.
        await second.run("/join noa")
        for i in range(10):
            await second.app.dispatch(
                MessagePosted(
                    platform="console",
                    space_id="console",
                    actor=Actor(user_id="noa", display_name="noa"),
                    at=START,
                    channel_id="general",
                    message_id=f"r{i}",
                    text="welcome!",
                    reply_to_user_id=f"m{i}",
                    reply_to_message_id=f"x{i}",
                )
            )
        community = second.app.directory.community_of("console", "console")
        assert community is not None
        await engagement(second.app.services).flush()
        day = START.date()
        async with UnitOfWork(second.app.services.db) as uow:
            noa = await uow.members.find(community.id, "console", "noa")
            assert noa is not None
            given = await uow.activity.member_totals(noa.id, day, day + timedelta(days=1))
            received = 0
            for i in range(10):
                member = await uow.members.find(community.id, "console", f"m{i}")
                assert member is not None
                totals = await uow.activity.member_totals(member.id, day, day + timedelta(days=1))
                received += totals["replies_received"]
        assert given["replies"] == 10
        assert received == 10
        # The second worker knows them now: the next reply costs no lookup.
        assert second.app.directory.member(community.id, "console", "m3") is not None
    finally:
        await first.stop()
        await second.stop()
