"""Updates as Telegram sends them -> the events the core sees."""

from __future__ import annotations

from tg_fakeapi import BOT_USER
from tg_harness import GROUP, Harness, payload

from bot.actions import ApproveJoinRequest, CreateInvite
from bot.events import (
    ButtonPressed,
    CommandInvoked,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    ReactionAdded,
    SpaceAdded,
    SpaceMigrated,
    SpaceRemoved,
)

NOA = {"id": 111, "is_bot": False, "first_name": "Noa"}


async def test_join_through_a_members_invite_link_is_exact(tg: Harness) -> None:
    [event] = await tg.feed("chat_member_join_via_invite.json")
    assert isinstance(event, MemberJoined)
    assert event.space_id == str(GROUP)
    assert event.actor is not None and event.actor.user_id == "333"
    assert event.actor.display_name == "Eli Cohen"
    assert event.actor.language == "he"
    assert event.invite_code == "Fk0001aZbQ9xYz"  # the link's hash (bot/invites.py)
    assert event.confidence == "exact"


async def test_the_code_of_an_invite_the_bot_made_is_the_code_of_a_join_through_it(
    tg: Harness,
) -> None:
    made = await tg.adapter.perform(
        CreateInvite(platform="telegram", space_id=str(GROUP), channel_id=None, name="Dana")
    )
    assert made.ok and made.invite_code
    assert made.value == f"https://t.me/+{made.invite_code}"  # the URL to share, apart
    [joined] = await tg.feed("chat_member_join_via_invite.json")  # through that link
    assert isinstance(joined, MemberJoined)
    assert (joined.invite_code, joined.confidence) == (made.invite_code, "exact")


async def test_join_without_a_link_is_unknown(tg: Harness) -> None:
    [event] = await tg.feed("chat_member_join_no_link.json")
    assert isinstance(event, MemberJoined)
    assert event.invite_code is None
    assert event.confidence == "unknown"


async def test_join_through_another_admins_masked_link_is_unknown(tg: Harness) -> None:
    [event] = await tg.feed("chat_member_join_other_admins_link.json")
    assert isinstance(event, MemberJoined)
    assert (event.invite_code, event.confidence) == (None, "unknown")


async def test_join_request_then_approval_is_attributed_to_the_link(tg: Harness) -> None:
    [request] = await tg.feed("chat_join_request.json")
    assert isinstance(request, JoinRequested)
    assert request.actor is not None and request.actor.user_id == "777"
    assert request.invite_code == "Rq0002bYcR8wXa"

    result = await tg.adapter.perform(
        ApproveJoinRequest(platform="telegram", space_id=str(GROUP), user_id="777")
    )
    assert result.ok
    [call] = tg.api.of("approveChatJoinRequest")
    assert call.params == {"chat_id": GROUP, "user_id": 777}

    # Telegram then reports the join, without the link: we remember it from the request.
    [joined] = await tg.feed("chat_member_join_approved.json")
    assert isinstance(joined, MemberJoined)
    assert (joined.invite_code, joined.confidence) == ("Rq0002bYcR8wXa", "exact")


async def test_kicked_by_the_bot_is_a_leave_removed_by_bot(tg: Harness) -> None:
    [event] = await tg.feed("chat_member_kicked.json")
    assert isinstance(event, MemberLeft)
    assert event.actor is not None and event.actor.user_id == "555"
    assert event.removed_by_bot


async def test_command_with_bot_name_and_arguments_in_a_group(tg: Harness) -> None:
    tg.api.admins[GROUP] = [NOA, BOT_USER]
    [event] = await tg.feed("message_command_with_botname.json")
    assert isinstance(event, CommandInvoked)
    assert (event.name, event.args) == ("cmd", ("a", "b"))
    assert event.space_id == str(GROUP) and event.channel_id == str(GROUP)
    assert not event.private
    assert event.actor is not None
    assert event.actor.is_platform_admin  # Noa created the group
    assert event.actor.language == "de"


async def test_a_non_admin_is_not_a_platform_admin(tg: Harness) -> None:
    tg.api.admins[GROUP] = [NOA, BOT_USER]
    [event] = await tg.feed("callback_query.json")
    assert isinstance(event, ButtonPressed)
    assert event.actor is not None and not event.actor.is_platform_admin


async def test_administrators_are_fetched_once_per_chat(tg: Harness) -> None:
    tg.api.admins[GROUP] = [NOA, BOT_USER]
    await tg.feed("message_command_with_botname.json")
    await tg.feed("message_command_with_botname.json")
    assert len(tg.api.of("getChatAdministrators")) == 1


async def test_command_addressed_to_another_bot_is_an_ordinary_message(tg: Harness) -> None:
    [event] = await tg.feed("message_command_other_bot.json")
    assert isinstance(event, MessagePosted)
    assert event.text == "/help@other_bot"


async def test_a_member_who_renames_is_shown_by_the_new_name(tg: Harness) -> None:
    # The adapter reuses a member's actor between messages: never with a stale name or
    # language.
    update = payload("message_group_text.json")
    [first] = await tg.feed(update)
    update["message"]["from"] = {
        **update["message"]["from"],
        "first_name": "Dana",
        "last_name": "K",
    }
    update["message"]["message_id"] += 1
    [renamed] = await tg.feed(update)
    update["message"]["from"]["language_code"] = "de"
    update["message"]["message_id"] += 1
    [german] = await tg.feed(update)
    assert first.actor is not None and renamed.actor is not None and german.actor is not None
    assert (first.actor.display_name, renamed.actor.display_name) == ("Dana", "Dana K")
    assert (renamed.actor.language, german.actor.language) == ("he", "de")


async def test_start_with_payload_in_private_is_a_private_command(tg: Harness) -> None:
    [event] = await tg.feed("message_private_start.json")
    assert isinstance(event, CommandInvoked)
    assert (event.name, event.args) == ("start", ("welcome_444",))
    assert event.private
    assert event.space_id == ""
    assert event.channel_id == "444"


async def test_reply_in_a_forum_topic(tg: Harness) -> None:
    [event] = await tg.feed("message_topic_reply.json")
    assert isinstance(event, MessagePosted)
    assert event.thread_id == "6000"
    assert event.channel_id == f"{GROUP}/6000"
    assert (event.reply_to_user_id, event.reply_to_message_id) == ("333", "6005")
    assert event.reply_to_text == "Who brings dessert?"


async def test_plain_topic_message_is_not_a_reply_to_the_topic_opener(tg: Harness) -> None:
    [event] = await tg.feed("message_topic_plain.json")
    assert isinstance(event, MessagePosted)
    assert event.reply_to_user_id is None and event.reply_to_message_id is None


async def test_only_new_reactions_count(tg: Harness) -> None:
    events = await tg.feed("message_reaction.json")
    assert [type(e) for e in events] == [ReactionAdded]
    [event] = events
    assert isinstance(event, ReactionAdded)
    assert (event.emoji, event.message_id, event.actor and event.actor.user_id) == (
        "🔥",
        "6010",
        "333",
    )


async def test_bot_added_and_removed_make_and_drop_a_space(tg: Harness) -> None:
    tg.api.admins[-1009876543210] = [NOA, BOT_USER]
    [added] = await tg.feed("my_chat_member_added.json")
    assert isinstance(added, SpaceAdded)
    assert (added.space_id, added.title) == ("-1009876543210", "Bakery Friends")
    assert added.actor is not None and added.actor.user_id == "111"
    assert added.actor.is_platform_admin
    [removed] = await tg.feed("my_chat_member_removed.json")
    assert isinstance(removed, SpaceRemoved)
    assert removed.space_id == "-1009876543210"


async def test_group_upgraded_to_supergroup_migrates_the_space(tg: Harness) -> None:
    [event] = await tg.feed("message_migrate_to_supergroup.json")
    assert isinstance(event, SpaceMigrated)
    assert (event.space_id, event.new_space_id) == ("-4012345678", "-1009876543210")


async def test_anonymous_admin_command_is_answered_not_dispatched(tg: Harness) -> None:
    events = await tg.feed("message_anonymous_admin_command.json")
    assert events == []
    [sent] = tg.api.of("sendMessage")
    assert sent.params["chat_id"] == GROUP
    assert "anonymous" in sent.params["text"]
    assert sent.params["reply_parameters"]["message_id"] == 5101
