"""Core actions out: what members and owners see on Discord."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from dc_fakeapi import MAX_INVITES
from dc_harness import DANA, GENERAL, GUILD, WELCOME, Harness

import adapters.discord as discord_package
from adapters.discord.render import escape, render
from bot.actions import (
    Action,
    ActionResult,
    ApproveJoinRequest,
    AssignRole,
    Attachment,
    Button,
    CreateInvite,
    Restrict,
    Send,
    SendDirect,
    SyncScheduledEvent,
    UnsupportedAction,
)
from bot.markup import Bold, Items, Mention, Text

MESSAGES = "/channels/{channel_id}/messages"
ROLE = "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"
EVENTS = "/guilds/{guild_id}/scheduled-events"
EVENT = "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Shout(Action):
    """An action type the adapter has never heard of."""


def direct(**kw: object) -> SendDirect:
    return SendDirect(
        platform="discord",
        user_id=DANA,
        text=Text.of("Your invite link: https://discord.gg/abc"),
        **kw,  # type: ignore[arg-type]
    )


async def test_closed_dms_come_back_dm_closed_and_the_adapter_posts_nothing_else(
    discord_bot: Harness,
) -> None:
    # The fallback is the core's (tests/adapters/discord/test_discord_with_core.py).
    discord_bot.api.closed_dms.add(DANA)
    result = await discord_bot.adapter.perform(
        direct(fallback_space_id=GUILD, fallback_channel_id=WELCOME)
    )
    assert (result.ok, result.error) == (False, "dm_closed")
    assert [c.params["channel_id"] for c in discord_bot.api.find("POST", MESSAGES)] == [
        "41" + DANA[2:]
    ]
    assert discord_bot.adapter.open_chat_link("welcome") is None


async def test_a_direct_message_to_open_dms(discord_bot: Harness) -> None:
    result = await discord_bot.adapter.perform(direct(fallback_channel_id=WELCOME))
    assert result.ok and not result.fell_back
    assert [c.params["channel_id"] for c in discord_bot.api.find("POST", MESSAGES)] == [
        "41" + DANA[2:]
    ]


async def test_a_role_above_the_bot_fails_naming_the_role(discord_bot: Harness) -> None:
    result = await discord_bot.adapter.perform(
        AssignRole(platform="discord", space_id=GUILD, user_id=DANA, role="Moderators")
    )
    assert result == ActionResult.failed("forbidden", "Moderators")
    assert not discord_bot.api.find("PUT", ROLE)


async def test_a_role_the_api_refuses_fails_naming_the_role(discord_bot: Harness) -> None:
    discord_bot.api.refused_roles.add("300000000000000002")
    result = await discord_bot.adapter.perform(
        AssignRole(platform="discord", space_id=GUILD, user_id=DANA, role="300000000000000002")
    )
    assert result == ActionResult.failed("forbidden", "Ambassador")


async def test_a_role_below_the_bot_is_assigned_by_name(discord_bot: Harness) -> None:
    result = await discord_bot.adapter.perform(
        AssignRole(platform="discord", space_id=GUILD, user_id=DANA, role="ambassador")
    )
    assert result.ok
    (call,) = discord_bot.api.find("PUT", ROLE)
    assert call.params == {"guild_id": GUILD, "user_id": DANA, "role_id": "300000000000000002"}


async def test_a_scheduled_event_created_then_cancelled(discord_bot: Harness) -> None:
    action = SyncScheduledEvent(
        platform="discord",
        space_id=GUILD,
        event_key="ev:7",
        title="Spring lunch",
        starts_at=datetime(2030, 4, 2, 12, tzinfo=UTC),
        ends_at=datetime(2030, 4, 2, 14, tzinfo=UTC),
        location="Hummus Abu Hassan, Allenby 3",
        description="Bring a friend.",
    )
    created = await discord_bot.adapter.perform(action)
    assert created.ok and created.value
    (post,) = discord_bot.api.find("POST", EVENTS)
    assert post.json["name"] == "Spring lunch"
    assert post.json["entity_type"] == 3
    assert post.json["entity_metadata"] == {"location": "Hummus Abu Hassan, Allenby 3"}
    assert post.json["scheduled_start_time"] == "2030-04-02T12:00:00+00:00"

    from dataclasses import replace

    moved = await discord_bot.adapter.perform(
        replace(action, external_event_id=created.value, title="Spring lunch (moved)")
    )
    assert moved.value == created.value
    cancelled = await discord_bot.adapter.perform(
        replace(action, external_event_id=created.value, cancelled=True)
    )
    assert cancelled.ok
    edits = discord_bot.api.find("PATCH", EVENT)
    assert [c.json.get("status") for c in edits] == [None, 4]
    assert discord_bot.api.events[created.value]["status"] == 4


async def test_a_personal_invite_is_permanent_and_unique(discord_bot: Harness) -> None:
    result = await discord_bot.adapter.perform(
        CreateInvite(platform="discord", space_id=GUILD, channel_id=None, name="Dana's invite")
    )
    assert result.ok and result.value is not None
    assert result.value.startswith("https://discord.gg/")
    (call,) = discord_bot.api.find("POST", "/channels/{channel_id}/invites")
    assert call.params["channel_id"] == WELCOME  # the system channel
    assert (call.json["max_age"], call.json["unique"], call.json["max_uses"]) == (0, True, 0)


async def test_the_invite_cap_is_a_clear_error(discord_bot: Harness) -> None:
    for i in range(MAX_INVITES):
        discord_bot.api.add_invite(GUILD, f"old{i}")
    result = await discord_bot.adapter.perform(
        CreateInvite(platform="discord", space_id=GUILD, channel_id=GENERAL, name="Avi")
    )
    assert (result.ok, result.error) == (False, "limit_reached")


async def test_long_text_is_split_under_2000_with_buttons_and_files_on_the_last(
    discord_bot: Harness,
) -> None:
    lines = [f"{i:03d} " + "word " * 30 for i in range(30)]
    result = await discord_bot.adapter.perform(
        Send(
            platform="discord",
            space_id=GUILD,
            channel_id=GENERAL,
            text=Text.of("\n".join(lines)),
            buttons=(Button("More", "digest:more"),),
            attachments=(Attachment("digest.png", b"\x89PNG...", "image/png"),),
        )
    )
    sent = discord_bot.api.find("POST", MESSAGES)
    assert len(sent) == 3
    assert all(c.content is not None and len(c.content) <= 2000 for c in sent)
    assert "".join(c.content or "" for c in sent).count("word") == 30 * 30
    assert [bool(c.json.get("components")) for c in sent] == [False, False, True]
    assert [c.files for c in sent] == [(), (), ("digest.png",)]
    assert result.message_id is not None


async def test_send_to_the_main_channel(discord_bot: Harness) -> None:
    result = await discord_bot.adapter.perform(
        Send(platform="discord", space_id=GUILD, channel_id="", text=Text.of("Hello"))
    )
    assert result.ok
    (call,) = discord_bot.api.find("POST", MESSAGES)
    assert call.params["channel_id"] == WELCOME


async def test_a_timeout_without_an_end_lasts_the_discord_maximum(discord_bot: Harness) -> None:
    result = await discord_bot.adapter.perform(
        Restrict(platform="discord", space_id=GUILD, user_id=DANA)
    )
    assert result.ok
    (call,) = discord_bot.api.find("PATCH", "/guilds/{guild_id}/members/{user_id}")
    until = datetime.fromisoformat(call.json["communication_disabled_until"])
    assert 27 < (until - datetime.now(UTC)).total_seconds() / 86400 <= 28


async def test_join_requests_and_unknown_actions_are_not_performed(
    discord_bot: Harness,
) -> None:
    # Discord has no join requests: like an unknown type, it is not in the table.
    before = len(discord_bot.api.calls)
    with pytest.raises(UnsupportedAction, match="discord adapter cannot perform Approve"):
        await discord_bot.adapter.perform(
            ApproveJoinRequest(platform="discord", space_id=GUILD, user_id=DANA)
        )
    with pytest.raises(UnsupportedAction, match="discord adapter cannot perform Shout"):
        await discord_bot.adapter.perform(Shout(platform="discord"))
    assert len(discord_bot.api.calls) == before


# --- rendering ---------------------------------------------------------------------


def test_member_text_is_shown_as_typed() -> None:
    typed = (
        "**free** pizza _now_ #1\n# NEWS\n> quote [click](https://evil.example) <@123> @everyone"
    )
    (out,) = render(Text.of(typed)).chunks
    assert "**" not in out.replace("\\*\\*", "")
    assert "#1" in out and "\\# NEWS" in out and "\\> quote" in out and "\\[click]" in out
    assert "\\<@123>" in out
    assert "@everyone" not in out  # broken with a zero-width space


def test_markup_nodes_become_discord_markdown() -> None:
    rendered = render(
        Text.of(
            "Welcome ",
            Mention(DANA, "Dana"),
            "! ",
            Bold(("Next:",)),
            Items((("Lunch",), ("Talk on *growth*",))),
        )
    )
    (out,) = rendered.chunks
    assert out == f"Welcome <@{DANA}>! **Next:**\n- Lunch\n- Talk on \\*growth\\*"
    assert rendered.mentions == (int(DANA),)
    assert rendered.allowed_mentions.everyone is False


def test_urls_in_member_text_stay_clickable() -> None:
    assert escape("see https://example.com/a_b_c") == "see https://example.com/a_b_c"


def test_the_invite_url_asks_for_exactly_the_needed_permissions() -> None:
    from dc_harness import config

    url = discord_package.invite_url(config(application_id=900000000000000001))
    assert url.startswith("https://discord.com/oauth2/authorize?client_id=900000000000000001")
    assert "scope=bot+applications.commands" in url
    import discord

    perms = discord.Permissions(discord_package.required_permissions())
    assert f"permissions={perms.value}" in url
    # What the adapter calls for shipped features, and nothing more.
    assert {name for name, on in perms if on} == {
        "read_messages",  # View Channels (discord.py lists it by its old name)
        "send_messages",
        "send_messages_in_threads",
        "read_message_history",
        "attach_files",
        "manage_roles",  # onboarding's member role
        "moderate_members",  # the gate as a timeout
        "kick_members",  # the gate's "remove"
        "manage_guild",  # invite counts: {inviter}
        "manage_events",  # community events mirrored as scheduled events
    }
    with pytest.raises(ValueError, match="application_id"):
        discord_package.invite_url(config())


async def test_edit_replaces_text_and_buttons_and_delete_removes(discord_bot: Harness) -> None:
    from bot.actions import Delete, Edit

    edit = Edit(
        platform="discord",
        space_id=GUILD,
        channel_id=WELCOME,
        message_id="500000000000000042",
        text=Text.of("Going: ", Bold(("12",)), " " + "x" * 2100),
        buttons=(Button("Going", "events:rsvp:42"),),
    )
    result = await discord_bot.adapter.perform(edit)
    assert result.ok and result.message_id == "500000000000000042"
    (call,) = discord_bot.api.find("PATCH", MESSAGES + "/{message_id}")
    assert call.content is not None and call.content.startswith("Going: **12**")
    assert len(call.content) == 2000 and call.content.endswith("…")
    assert call.json["components"][0]["components"][0]["custom_id"] == "events:rsvp:42"

    gone = await discord_bot.adapter.perform(
        Delete(
            platform="discord", space_id=GUILD, channel_id=WELCOME, message_id="500000000000000042"
        )
    )
    assert gone.ok and discord_bot.api.find("DELETE", MESSAGES + "/{message_id}")
