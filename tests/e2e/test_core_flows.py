"""Whole flows through the console adapter and the fake clock."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from adapters.console.community import ConsoleCommunity
from bot.actions import Reply, Send, SendDirect
from bot.commands import CommandSpec
from bot.config import Config
from bot.context import Context
from bot.events import Actor, Event, MessagePosted
from bot.feature import Feature
from bot.features import all_features
from bot.i18n import gettext
from storage.database import Database
from tests.conftest import START


def private_to(console: ConsoleCommunity, name: str) -> list[str]:
    return console.seen_by(f"@{name}")


async def test_setup_makes_the_admin_owner_and_only_once(config: Config, tmp_path: Path) -> None:
    console = ConsoleCommunity(config, start=START)
    await console.start(migrate=False)
    try:
        await console.run("/join dana\n/as dana\n/setup Dana's Club")
        assert "Only an administrator" in private_to(console, "dana")[-1]
        await console.run("/as owner\n/setup Bakery")
        assert "Bakery is set up" in console.last_text()
        await console.run("/setup Again")
        assert "already belongs to Bakery" in console.last_text()
        info = console.app.directory.community_of("console", "console")
        assert info is not None and info.name == "Bakery"
    finally:
        await console.stop()


async def test_unknown_command_points_to_help(console: ConsoleCommunity) -> None:
    await console.run("/frobnicate now")
    assert private_to(console, "owner") == [
        "There is no command /frobnicate. Send /help to see what I can do."
    ]


async def test_a_mistyped_command_is_answered_with_the_one_likely_meant(
    console: ConsoleCommunity,
) -> None:
    await console.run("/incident")
    assert private_to(console, "owner")[-1] == (
        "There is no command /incident. Did you mean /incidents?"
    )
    await console.run("/join dana\n/as dana\n/incident\n/stat")
    # Only a command the member may use is suggested.
    assert private_to(console, "dana")[-2:] == [
        "There is no command /incident. Send /help to see what I can do.",
        "There is no command /stat. Did you mean /stats?",
    ]


async def test_a_mistyped_subcommand_is_answered_with_the_one_likely_meant(
    console: ConsoleCommunity,
) -> None:
    await console.run("/config sett digest.day fri")
    said = private_to(console, "owner")[-1].split("\n")
    assert said[0] == "There is no /config sett. Did you mean /config set?"
    assert said[1] == "Usage:"
    await console.run("/config set locale de\n/event lsit")
    assert console.last_text().startswith("Es gibt kein /event lsit. Meintest du /event list?")
    await console.run("/event frobnicate")  # nothing close: the usage, as before
    assert console.last_text().startswith("frobnicate habe ich nicht verstanden.")


async def test_another_commands_name_as_a_subcommand_gets_that_commands_usage(
    console: ConsoleCommunity,
) -> None:
    await console.run("/config set locale de\n/moderation watch add casino")
    answer = private_to(console, "owner")[-1]
    assert answer.startswith("/watch ist ein eigener Befehl:\nVerwendung:\n/watch add EINTRAG")
    await console.run("/as owner\n/watch list")
    assert console.last_text() == gettext("de", "No watched words yet. Add one with /watch add.")


async def test_wrong_argument_gets_usage_in_the_callers_language(console: ConsoleCommunity) -> None:
    await console.run("/config set locale de")
    console.clear()
    await console.run("/config set")
    usage = private_to(console, "owner")[-1]
    assert usage.startswith(gettext("de", "Usage:"))
    assert gettext("de", "Usage:") != "Usage:"
    assert "/config set EINSTELLUNG WERT" in usage  # its placeholders in German too
    assert "WERT: Der neue Wert" in usage
    await console.run("/staff set king dana")
    assert "owner|moderator|member" in console.last_text()


async def test_member_without_permission_is_told_and_nothing_changes(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join dana\n/as dana\n/config set timezone Asia/Jerusalem")
    assert private_to(console, "dana")[-1] == "Only owners can use /config. Nothing was changed."
    info = console.app.directory.community_of("console", "console")
    assert info is not None and info.timezone == "UTC"
    async with Database(console.config.database.url).session() as session:
        stored = await session.scalar(text("SELECT timezone FROM community"))
    assert stored == "UTC"


async def test_config_set_validates_and_names_the_key(console: ConsoleCommunity) -> None:
    await console.run("/config set timezone Mars/Olympus")
    assert "Mars/Olympus is not a time zone" in console.last_text()
    await console.run("/config set colour blue")
    assert "There is no setting colour" in console.last_text()
    assert "starts with its feature: ambassadors, community, digest" in console.last_text()
    await console.run("/config set timezone Europe/Berlin\n/config set community.channel lobby")
    await console.run("/config show")
    shown = console.last_text()
    assert "timezone = Europe/Berlin" in shown
    assert "community.channel = #lobby" in shown  # by its name, as members see it
    await console.run("/config reset community.channel\n/config show")
    assert "community.channel = empty (default)" in console.last_text()


async def test_config_survives_a_restart(console: ConsoleCommunity) -> None:
    await console.run("/config set locale he\n/config set community.channel lobby")
    await console.restart()
    info = console.app.directory.community_of("console", "console")
    assert info is not None
    assert info.locale == "he"
    assert console.app.directory.setting(info, "community.channel") == "lobby"


async def test_help_lists_only_what_the_caller_may_use(console: ConsoleCommunity) -> None:
    await console.run("/help")
    owner_help = console.last_text()
    assert "/config" in owner_help and "/stats" in owner_help
    await console.run("/join dana\n/as dana\n/help")
    member_help = console.last_text()
    assert "/stats" in member_help and "/forgetme" in member_help
    assert "/config" not in member_help and "/staff" not in member_help


async def test_help_speaks_the_community_language(console: ConsoleCommunity) -> None:
    await console.run("/config set locale he\n/help")
    assert gettext("he", "What you can do here:") in console.last_text()
    assert gettext("he", "What you can do here:") != "What you can do here:"


async def test_stats_for_a_member_and_for_the_owner(console: ConsoleCommunity) -> None:
    await console.run(
        """
/join dana
/join noa
/say dana hello
/say dana anyone here?
/as noa
/reply dana hi Dana
/react
/as dana
/stats
"""
    )
    mine = private_to(console, "dana")[-1]
    assert "Messages: 2 / 2" in mine
    assert "Replies you received: 1 / 1" in mine
    await console.advance(timedelta(days=10))
    await console.run("/join eli\n/leave noa\n/as owner\n/stats")
    owner = private_to(console, "owner")[-1]
    # Last 7 days: only the join and the leave; last 28 days: everything.
    assert "Messages: 0 / 3" in owner
    assert "Joined: 1 / 3" in owner
    assert "Left: 1 / 1" in owner
    assert "Active members: 0 / 2" in owner


async def test_replies_are_counted_who_to_whom_and_no_text_is_stored(
    console: ConsoleCommunity,
) -> None:
    await console.run(
        "/join dana\n/join noa\n/say dana SECRET-PASSPHRASE-42\n/as noa\n/reply dana nice one"
    )
    await console.stop()
    async with Database(console.config.database.url).session() as session:
        pairs = (
            await session.execute(
                text(
                    "SELECT f.display_name, t.display_name, i.replies FROM interaction_daily i "
                    "JOIN member f ON f.id = i.from_member_id JOIN member t ON t.id = i.to_member_id"
                )
            )
        ).all()
        assert [tuple(p) for p in pairs] == [("noa", "dana", 1)]
        tables = (
            (await session.execute(text(_TABLES[console.app.services.db.dialect]))).scalars().all()
        )
        for table in tables:
            for row in (await session.execute(text(f'SELECT * FROM "{table}"'))).all():
                assert "SECRET-PASSPHRASE" not in repr(row), table
    await console.start(migrate=False)


_TABLES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
    "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
}


async def test_counts_are_flushed_on_stop_and_kept_across_restart(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join dana\n/say dana one\n/say dana two")
    await console.restart()
    await console.run("/as dana\n/stats")
    assert "Messages: 2 / 2" in console.last_text()


async def test_mydata_sends_a_json_file_and_forgetme_deletes_after_confirming(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join dana\n/say dana hello\n/as dana\n/mydata")
    reply = console.actions(Reply)[-1]
    assert isinstance(reply, Reply) and reply.private
    data = json.loads(reply.attachments[0].data)
    assert data["member"]["display_name"] == "dana"
    assert data["engagement"]["daily_activity"][0]["messages"] == 1

    await console.run("/forgetme\n/click 2")
    assert console.last_text() == "Nothing was deleted."
    await console.run("/forgetme\n/click 1")
    assert console.last_text().startswith("Done")
    async with Database(console.config.database.url).session() as session:
        names = (await session.execute(text("SELECT display_name FROM member"))).scalars().all()
        activity = await session.scalar(text("SELECT count(*) FROM activity_daily"))
    assert "dana" not in names
    assert activity == 0
    # Writing again starts afresh, as a new member.
    await console.run("/say dana back again\n/stats")
    assert "Messages: 1 / 1" in console.last_text()


def _failing_feature() -> Feature:
    async def no_merge(ctx: Context, from_id: int, into_id: int) -> None:
        pass

    async def nothing(ctx: Context, member_id: int) -> None:
        return None

    feature = Feature("boom", delete_member_data=nothing, merge_member_data=no_merge)
    feature.command(CommandSpec("boom", "Fails on purpose"))

    @feature.handles("boom")
    async def boom(ctx: Context, args: dict[str, Any]) -> None:
        assert ctx.community is not None
        await ctx.uow.settings.set(
            ctx.community.id, "community.channel", "written-then-rolled-back"
        )
        ctx.reply(ctx._("never sent"))
        raise RuntimeError("handler bug")

    return feature


async def test_a_failing_handler_is_rolled_back_logged_and_the_bot_goes_on(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    console = ConsoleCommunity(config, start=START, features=[*all_features(), _failing_feature()])
    await console.start(migrate=False)
    try:
        await console.run("/setup Test")
        console.clear()
        with caplog.at_level(logging.ERROR, logger="kehila.dispatcher"):
            await console.run("/boom")
        assert private_to(console, "owner") == [
            "Sorry, something went wrong. Nothing was changed; please try again later."
        ]
        assert any("boom failed on CommandInvoked" in r.getMessage() for r in caplog.records)
        async with Database(config.database.url).session() as session:
            assert await session.scalar(text("SELECT count(*) FROM community_setting")) == 0
        await console.run("/config show")
        assert "community.channel = empty (default)" in console.last_text()
    finally:
        await console.stop()


def _hot_path_feature(listening: set[str]) -> Feature:
    """A broken observer of messages, and a handler that runs only for some members."""

    async def no_merge(ctx: Context, from_id: int, into_id: int) -> None:

        pass

    async def nothing(ctx: Context, member_id: int) -> None:
        return None

    feature = Feature("hot", delete_member_data=nothing, merge_member_data=no_merge)

    @feature.observe(MessagePosted)
    def broken(services: Any, community: Any, member: Any, event: MessagePosted) -> None:
        raise RuntimeError("observer bug")

    @feature.on(MessagePosted, only_if=lambda services, member: member.user_id in listening)
    async def echo(ctx: Context, event: MessagePosted) -> None:
        ctx.reply(ctx._("heard you"))

    return feature


async def test_observers_and_filtered_handlers_on_the_hot_path(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    # The broken observer comes first: the others (engagement's counting) still count.
    listening = {"noa"}
    console = ConsoleCommunity(
        config, start=START, features=[_hot_path_feature(listening), *all_features()]
    )
    await console.start(migrate=False)
    try:
        await console.run("/setup Test\n/join dana\n/join noa")
        console.clear()
        with caplog.at_level(logging.ERROR, logger="kehila.dispatcher"):
            await console.run("/say dana hello\n/say noa hi")
        assert console.seen_by("#general").count("heard you") == 1  # noa's, not dana's
        assert any("hot failed on MessagePosted" in r.getMessage() for r in caplog.records)
        listening.add("dana")
        await console.run("/say dana again\n/as dana\n/stats")
        assert console.seen_by("#general").count("heard you") == 2
        assert "Messages: 2 / 2" in private_to(console, "dana")[-1]
    finally:
        await console.stop()


async def test_a_message_no_handler_wants_is_done_when_submitted(config: Config) -> None:
    # What `submit` leaves to await is what a platform's adapter must run as a task;
    # a message only observers see leaves nothing (discord.py's parser hands it over).
    listening = {"noa"}
    console = ConsoleCommunity(
        config, start=START, features=[_hot_path_feature(listening), *all_features()]
    )
    await console.start(migrate=False)
    submit = console.adapter.sink
    assert submit is not None
    left: list[str] = []

    def recording(event: Event) -> Awaitable[None] | None:
        rest = submit(event)
        if isinstance(event, MessagePosted):
            left.append(f"{event.actor.user_id if event.actor else ''}: {rest is not None}")
        return rest

    try:
        await console.run("/setup Test\n/join dana\n/join noa\n/say dana hello\n/say noa hi")
        console.adapter.sink = recording
        console.clear()
        await console.run("/say dana again\n/say noa again\n/as dana\n/stats")
        assert left == ["dana: False", "noa: True"]  # noa's is echoed: a handler wants it
        assert console.seen_by("#general").count("heard you") == 1
        assert "Messages: 2 / 2" in private_to(console, "dana")[-1]  # counted all the same
    finally:
        await console.stop()


async def test_a_stop_waits_for_a_submitted_message_not_yet_started(config: Config) -> None:
    # An adapter runs what `submit` leaves as a task of its own; until that task
    # starts, the message is already under way for a stop (which waits for it).
    console = ConsoleCommunity(
        config, start=START, features=[_hot_path_feature({"noa"}), *all_features()]
    )
    await console.start(migrate=False)
    await console.run("/setup Test\n/join noa\n/say noa hello")
    console.clear()
    again = MessagePosted(
        platform="console",
        space_id="console",
        actor=Actor(user_id="noa", display_name="noa"),
        at=START,
        channel_id="general",
        message_id="again",
        text="again",
    )
    rest = console.app.dispatcher.submit(again)  # as the Discord adapter does: a task
    assert rest is not None
    spawned = asyncio.ensure_future(rest)
    assert not spawned.done() and console.app.dispatcher.in_flight == 1
    await console.stop()  # drains first
    assert spawned.done()
    assert console.seen_by("#general").count("heard you") == 1


async def test_private_message_falls_back_to_the_channel_when_dms_are_closed(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join dana\n/dms dana off")
    info = console.app.directory.community_of("console", "console")
    ctx = Context(console.app.services, _fake_event(), info, None)
    dana = console.app.directory.member(info.id, "console", "dana")  # type: ignore[union-attr]
    assert dana is not None
    ctx.direct(dana, ctx._("Welcome!"))
    [result] = await console.app.dispatcher.perform(ctx.actions, ctx)
    assert result.ok and result.fell_back and not result.pending
    shown = console.performed[-1]
    assert isinstance(shown.action, Send)
    assert shown.audience == "#general"
    assert shown.text == "@dana, I could not send you a direct message, so here it is:\nWelcome!"


def _fake_event() -> Any:
    from bot.events import MessagePosted

    return MessagePosted(
        platform="console",
        space_id="console",
        actor=None,
        at=START,
        channel_id="general",
        message_id="0",
        text=None,
    )


def _admin(user: str) -> Any:
    from bot.events import Actor

    return Actor(user_id=user, display_name=user.title(), is_platform_admin=True)


async def _setup_in(console: ConsoleCommunity, space_id: str, arg: str) -> None:
    """A new space appears and its administrator runs /setup ARG there."""
    from bot.events import CommandInvoked, SpaceAdded

    at, rivka = console.clock.now(), _admin("rivka")
    await console.app.dispatch(
        SpaceAdded(platform="console", space_id=space_id, actor=rivka, at=at, title=space_id)
    )
    await console.app.dispatch(
        CommandInvoked(
            platform="console",
            space_id=space_id,
            actor=rivka,
            at=at,
            channel_id="main",
            name="setup",
            args=(arg,),
        )
    )


async def test_a_second_space_joins_the_community_with_a_one_time_code(
    console: ConsoleCommunity,
) -> None:
    from bot.events import MessagePosted

    await console.run("/spaces link")
    found = re.search(r"/setup ([A-Z2-9]{4}-[A-Z2-9]{4})", console.last_text())
    assert found is not None
    code = found.group(1)
    directory = console.app.directory
    home = directory.community_of("console", "console")

    # A code that was never issued is taken as a name: a new, separate community.
    await _setup_in(console, "annex1", "WXYZ-2345")
    assert "WXYZ-2345 is set up" in console.last_text()
    assert directory.community_of("console", "annex1") is not home

    await _setup_in(console, "annex2", code)
    assert console.last_text() == "This space now belongs to Test Community."
    assert home is not None and directory.community_of("console", "annex2") is home
    rivka = directory.member(home.id, "console", "rivka")
    assert rivka is not None and rivka.role == "moderator"

    # The code works once.
    await _setup_in(console, "annex3", code)
    assert directory.community_of("console", "annex3") is not home

    # Activity in the linked space counts for the same community.
    await console.app.dispatch(
        MessagePosted(
            platform="console",
            space_id="annex2",
            actor=_admin("rivka"),
            at=console.clock.now(),
            channel_id="main",
            message_id="1",
            text="hi",
        )
    )
    await console.run("/spaces list")
    assert "console: annex2" in console.last_text()
    await console.run("/stats")
    assert "Messages: 1 / 1" in console.last_text()


async def test_a_private_message_waits_until_the_member_opens_a_chat(
    console: ConsoleCommunity,
) -> None:
    await console.run("/dms dana never\n/join dana\n/as dana\n/mydata")
    # Nothing private in the channel: a note, and the answer is kept.
    assert console.seen_by("#general")[-1] == (
        "@dana, I have a private message for you. Open a chat with me (/dm /start) and press Start."
    )
    assert private_to(console, "dana") == []
    await console.run("/dm /start")
    [delivered] = console.actions(SendDirect)[-1:]
    assert (
        isinstance(delivered, SendDirect)
        and delivered.attachments[0].filename == "kehila-my-data.json"
    )
    await console.run("/dm /start")
    assert private_to(console, "dana")[-1].startswith("Hello dana!")


async def test_forgetme_also_drops_messages_still_waiting(console: ConsoleCommunity) -> None:
    await console.run("/dms dana never\n/join dana\n/as dana\n/stats")
    async with Database(console.config.database.url).session() as session:
        # The onboarding rules and the /stats answer.
        assert await session.scalar(text("SELECT count(*) FROM pending_direct")) == 2
    await console.run("/dm /forgetme\n/click 1")
    async with Database(console.config.database.url).session() as session:
        assert await session.scalar(text("SELECT count(*) FROM pending_direct")) == 0
