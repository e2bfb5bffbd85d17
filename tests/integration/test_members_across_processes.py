"""A member first seen by one process and then by another is one member, not two."""

from __future__ import annotations

from sqlalchemy import text

from adapters.console.adapter import ConsoleAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.config import Config
from bot.events import Actor, CommandInvoked, MessagePosted
from tests.conftest import START


async def test_the_second_process_finds_the_member_the_first_created(config: Config) -> None:
    clock = FakeClock(START)
    first = App(config, clock=clock, adapters=[ConsoleAdapter(now=clock.now)])
    await first.start(migrate=False)
    owner = Actor(user_id="owner", display_name="Owner", is_platform_admin=True)
    await first.dispatch(
        CommandInvoked(
            platform="console",
            space_id="console",
            actor=owner,
            at=START,
            channel_id="general",
            name="setup",
            args=("Club",),
        )
    )
    # The second process starts now: the community is in its index, dana is not.
    second = App(config, clock=clock, adapters=[ConsoleAdapter(now=clock.now)])
    await second.start(migrate=False)
    dana = Actor(user_id="dana", display_name="Dana")

    def said(n: int) -> MessagePosted:
        return MessagePosted(
            platform="console",
            space_id="console",
            actor=dana,
            at=START,
            channel_id="general",
            message_id=str(n),
            text="hi",
        )

    try:
        await first.dispatch(said(1))  # the first process creates dana
        await second.dispatch(said(2))  # the second misses its index, conflicts, finds her
        community = second.directory.community_of("console", "console")
        assert community is not None
        ref_first = first.directory.member(community.id, "console", "dana")
        ref_second = second.directory.member(community.id, "console", "dana")
        assert ref_first is not None and ref_second is not None
        assert ref_first.id == ref_second.id
    finally:
        await first.stop()
        await second.stop()
    async with first.services.db.session() as session:
        assert (
            await session.scalar(text("SELECT count(*) FROM member WHERE display_name = 'Dana'"))
            == 1
        )
        # Both messages were counted for her.
        assert await session.scalar(text("SELECT sum(messages) FROM activity_daily")) == 2
