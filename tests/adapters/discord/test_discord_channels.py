"""Channel settings as owners type them on Discord, and what happens when the
channel goes away: through discord.py's parsers, the fake API and the real core."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

import discord
from dc_harness import DANA, GENERAL, GUILD, NOA, WELCOME, Harness, command, member_add, payload

from bot.actions import Send
from bot.app import App
from bot.features.engagement.chart import lays_out_rtl
from bot.features.engagement.digest import digest_week
from bot.markup import Text
from bot.ports import Channel

RULES = "400000000000000003"
ANNEX = "100000000000000002"
ANNEX_LOBBY = "400000000000000101"
FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
MESSAGES = "/channels/{channel_id}/messages"
NOA_DM = "41" + NOA[2:]
_ids = itertools.count(600000000000000100)


async def _invoke(bot: Harness, name: str, options: list[dict[str, Any]]) -> None:
    data = command(name, options, by={})
    data["id"] = str(next(_ids))
    bot.gateway("INTERACTION_CREATE", data)
    await bot.settle()


async def _run(bot: Harness, name: str, options: list[dict[str, Any]]) -> str:
    """An owner's slash command; its private answer."""
    before = len(bot.api.calls)
    await _invoke(bot, name, options)
    # A long answer (/config show, one line per setting) comes in several messages.
    answers = [c for c in bot.api.calls[before:] if c.route == FOLLOWUP]
    assert answers and all(a.json["flags"] & 64 for a in answers)  # only the owner sees them
    return displayed("\n".join(a.content or "" for a in answers))


def displayed(content: str) -> str:
    """The text as Discord shows it: markdown escapes (`\\#`, `\\_`) removed."""
    return re.sub(r"\\(.)", r"\1", content)


async def config_set(bot: Harness, key: str, value: str) -> str:
    options = [
        {"type": 3, "name": "key", "value": key},
        {"type": 3, "name": "value", "value": value},
    ]
    return await _run(bot, "config", [{"type": 1, "name": "set", "options": options}])


async def _community(core: tuple[App, Harness]) -> tuple[App, Harness]:
    app, bot = core
    bot.gateway("GUILD_CREATE", payload("guild_create"))
    await bot.settle()
    await _invoke(bot, "setup", [{"type": 3, "name": "name", "value": "Café Friends"}])
    return app, bot


def _setting(app: App, key: str) -> Any:
    community = app.directory.community_of("discord", GUILD)
    assert community is not None
    return app.directory.setting(community, key)


_members = itertools.count(1)


async def _join(bot: Harness) -> None:
    n = next(_members)
    bot.gateway("GUILD_MEMBER_ADD", member_add(f"2000000000000001{n:02d}", f"newcomer{n}"))
    await bot.settle()


def _posted_in(bot: Harness, since: int) -> list[str]:
    return [c.params["channel_id"] for c in bot.api.calls[since:] if c.route == MESSAGES]


def _to_noa(bot: Harness, since: int) -> list[str]:
    return [
        displayed(c.content or "")
        for c in bot.api.calls[since:]
        if c.route == MESSAGES and c.params["channel_id"] == NOA_DM
    ]


async def test_a_channel_is_taken_as_a_mention_a_name_or_an_id_and_stored_as_its_id(
    core: tuple[App, Harness],
) -> None:
    app, bot = await _community(core)

    answer = await config_set(bot, "community.channel", f"<#{GENERAL}>")
    assert answer == "community.channel is now #general."
    assert _setting(app, "community.channel") == GENERAL

    answer = await config_set(bot, "community.channel", "#welcome")
    assert answer == "community.channel is now #welcome."
    assert _setting(app, "community.channel") == WELCOME

    # A name as people write it: any case; the id as developer mode copies it.
    assert await config_set(bot, "moderation.alert_channel", "Rules") == (
        "moderation.alert_channel is now #rules."
    )
    assert _setting(app, "moderation.alert_channel") == RULES
    assert await config_set(bot, "community.channel", RULES) == "community.channel is now #rules."
    assert _setting(app, "community.channel") == RULES

    # /config show names them, never by id.
    shown = await _run(bot, "config", [{"type": 1, "name": "show", "options": []}])
    assert "community.channel** = #rules" in shown
    assert "moderation.alert_channel** = #rules" in shown
    assert RULES not in shown


async def test_an_unknown_channel_is_refused_naming_those_that_exist(
    core: tuple[App, Harness],
) -> None:
    app, bot = await _community(core)
    await config_set(bot, "community.channel", "#welcome")

    answer = await config_set(bot, "community.channel", "#lobby")
    assert answer == (
        "I found no channel lobby in Café Friends. Channels I can see: #general, #welcome, #rules."
    )
    assert _setting(app, "community.channel") == WELCOME  # unchanged
    # An id of no channel of this server is refused too.
    answer = await config_set(bot, "community.channel", "<#1575088658841600016>")
    assert answer.startswith("I found no channel 1575088658841600016 in Café Friends.")
    assert _setting(app, "community.channel") == WELCOME


async def test_a_channel_the_bot_may_not_post_in_is_taken_with_a_warning(
    core: tuple[App, Harness],
) -> None:
    app, bot = core
    guild = payload("guild_create")
    # The moderators' channel: @everyone (and so the bot) may read but not post.
    guild["channels"].append(
        {
            "id": "400000000000000004",
            "type": 0,
            "name": "mods",
            "position": 3,
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
            "permission_overwrites": [
                {"id": GUILD, "type": 0, "allow": "0", "deny": str(1 << 11)},  # Send Messages
            ],
        }
    )
    bot.gateway("GUILD_CREATE", guild)
    await bot.settle()
    await _invoke(bot, "setup", [{"type": 3, "name": "name", "value": "Café Friends"}])

    answer = await config_set(bot, "moderation.alert_channel", "#mods")
    assert answer == (
        "moderation.alert_channel is now #mods.\n"
        "I may not post in #mods yet: give me the permission to send messages there."
    )
    assert _setting(app, "moderation.alert_channel") == "400000000000000004"


async def test_welcomes_go_to_the_configured_channel_and_a_deleted_one_is_told_once(
    core: tuple[App, Harness],
) -> None:
    app, bot = await _community(core)
    await config_set(bot, "community.channel", "#rules")

    mark = len(bot.api.calls)
    await _join(bot)
    await app.outbox.drain()  # owners' notices go through the outbox
    assert RULES in _posted_in(bot, mark)  # the public welcome
    assert not _to_noa(bot, mark)

    # The channel is deleted on Discord: the gateway says so, the API answers 404.
    channel = next(c for c in payload("guild_create")["channels"] if c["id"] == RULES)
    bot.gateway("CHANNEL_DELETE", {**channel, "guild_id": GUILD})
    bot.api.gone_channels.add(RULES)

    mark = len(bot.api.calls)
    await _join(bot)
    await app.outbox.drain()  # owners' notices go through the outbox
    [notice] = _to_noa(bot, mark)
    assert notice == (
        "I could not post in the channel set as community.channel in Café Friends: it no "
        "longer exists, or I cannot see it. Choose another with /config set community.channel "
        "followed by the channel, or use the main channel again with /config reset "
        "community.channel."
    )
    # Not once per welcome: the next joins fail quietly (logged).
    mark = len(bot.api.calls)
    await _join(bot)
    await app.outbox.drain()  # owners' notices go through the outbox
    await _join(bot)
    await app.outbox.drain()  # owners' notices go through the outbox
    assert not _to_noa(bot, mark)

    # A new setting works, and a new failure of it is told again.
    assert await config_set(bot, "community.channel", "general") == (
        "community.channel is now #general."
    )
    mark = len(bot.api.calls)
    await _join(bot)
    await app.outbox.drain()  # owners' notices go through the outbox
    assert GENERAL in _posted_in(bot, mark) and not _to_noa(bot, mark)
    bot.api.refused_channels.add(GENERAL)  # a permission override took the bot's right
    mark = len(bot.api.calls)
    await _join(bot)
    await app.outbox.drain()  # owners' notices go through the outbox
    await _join(bot)
    await app.outbox.drain()  # owners' notices go through the outbox
    [notice] = _to_noa(bot, mark)
    assert notice.startswith(
        "I am not allowed to post in #general, the channel set as community.channel in "
        "Café Friends. Give me the permission to send messages there"
    )


async def test_a_private_message_falls_back_to_the_configured_channel_by_its_id(
    core: tuple[App, Harness],
) -> None:
    """Dana's DMs are closed: her private welcome is posted in the configured
    channel (stored as the id), not in the system channel."""
    _app, bot = await _community(core)
    await config_set(bot, "community.channel", "#general")
    bot.api.closed_dms.add(DANA)
    mark = len(bot.api.calls)
    bot.gateway("GUILD_MEMBER_ADD", member_add(DANA, "Dana"))
    await bot.settle()
    posts = [c for c in bot.api.calls[mark:] if c.route == MESSAGES]
    # The public welcome, the refused DM, then the private welcome in the channel.
    assert [c.params["channel_id"] for c in posts] == [GENERAL, "41" + DANA[2:], GENERAL]
    assert (posts[-1].content or "").startswith(f"<@{DANA}>, I could not send you a direct")


# --- Send: the channel a setting stores, resolved in the space it goes to ------------


def _send(space_id: str, channel_id: str) -> Send:
    return Send(platform="discord", space_id=space_id, channel_id=channel_id, text=Text.of("Hi"))


async def test_a_send_finds_the_channel_by_id_mention_or_name(discord_bot: Harness) -> None:
    for reference in (GENERAL, f"<#{GENERAL}>", "#general", "General"):
        result = await discord_bot.adapter.perform(_send(GUILD, reference))
        assert result.ok, reference
    assert {c.params["channel_id"] for c in discord_bot.api.find("POST", MESSAGES)} == {GENERAL}


async def test_a_send_to_a_name_no_channel_has_fails_not_found(discord_bot: Harness) -> None:
    result = await discord_bot.adapter.perform(_send(GUILD, "lobby"))
    assert (result.ok, result.error) == (False, "not_found")
    assert "lobby" in result.detail and "Café Community" in result.detail
    assert not discord_bot.api.find("POST", MESSAGES)


async def test_another_spaces_channel_means_this_servers_main_channel(
    discord_bot: Harness,
) -> None:
    """One community, two servers (or a Telegram group too): a channel setting is
    one server's channel; posts in the other go to its own main channel."""
    other = payload("guild_create")
    other["id"] = ANNEX
    other["name"] = "Café Annex"
    other["system_channel_id"] = ANNEX_LOBBY
    other["rules_channel_id"] = other["public_updates_channel_id"] = None
    other["channels"] = [{**c, "id": ANNEX_LOBBY, "name": "lobby"} for c in other["channels"][:1]]
    other["threads"] = []
    discord_bot.gateway("GUILD_CREATE", other)
    await discord_bot.settle()

    for reference in (GENERAL, "-1001234567890", "-1001234567890/42"):
        result = await discord_bot.adapter.perform(_send(ANNEX, reference))
        assert result.ok, reference
    assert {c.params["channel_id"] for c in discord_bot.api.find("POST", MESSAGES)} == {ANNEX_LOBBY}
    # ... and the first server's channel is not one of the annex's.
    assert await discord_bot.adapter.find_channel(ANNEX, GENERAL) is None
    found = await discord_bot.adapter.find_channel(ANNEX, "#lobby")
    assert found == Channel(ANNEX_LOBBY, "#lobby")


# --- names, not ids, in what owners read ----------------------------------------------


def last_week_noon() -> datetime:
    """A moment inside the week `/digest now` reports on (UTC, the default zone)."""
    week_start, _ = digest_week(datetime.now(UTC).date())
    return datetime.combine(week_start + timedelta(days=2), time(12), tzinfo=UTC)


async def test_the_digest_names_the_busiest_channels(core: tuple[App, Harness]) -> None:
    """`/digest now`: "Busiest" lists #general and #welcome by name, not by id."""
    lays_out_rtl()  # matplotlib's first import, outside the harness's wait
    _app, bot = await _community(core)
    at = last_week_noon()
    for i, channel in enumerate([GENERAL, GENERAL, GENERAL, WELCOME]):
        message = payload("message_create", channel_id=channel, content=f"hello {i}")
        message["id"] = str(discord.utils.time_snowflake(at + timedelta(minutes=i)))
        bot.gateway("MESSAGE_CREATE", message)
    await bot.settle()
    answer = await _run(bot, "digest", [{"type": 1, "name": "now", "options": []}])
    [busiest] = [line for line in answer.splitlines() if line.startswith("📍")]
    assert busiest.startswith("📍 Busiest: #general (75%), #welcome (25%); hours")
    assert GENERAL not in answer and WELCOME not in answer
