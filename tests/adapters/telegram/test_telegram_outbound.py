"""Core actions -> Bot API calls, checked on what the fake Bot API received."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from tg_fakeapi import BOT_USERNAME, NEVER_STARTED
from tg_harness import GROUP, Harness

from bot.actions import (
    AnswerButton,
    AssignRole,
    Attachment,
    Button,
    CreateInvite,
    Edit,
    Kick,
    Reply,
    Restrict,
    Send,
    SendDirect,
    SyncScheduledEvent,
    Unrestrict,
    UnsupportedAction,
)
from bot.commands import CommandSpec, Permission
from bot.events import ButtonPressed, CommandInvoked, Event, MessagePosted
from bot.i18n import gettext
from bot.markup import Bold, Items, Mention, Text

TOM = "<b>Tom & Jerry</b>"


def send(
    text: Text, buttons: tuple[Button, ...] = (), attachments: tuple[Attachment, ...] = ()
) -> Send:
    return Send(
        platform="telegram",
        space_id=str(GROUP),
        channel_id=str(GROUP),
        text=text,
        buttons=buttons,
        attachments=attachments,
    )


async def test_member_name_and_text_are_escaped(tg: Harness) -> None:
    result = await tg.adapter.perform(
        send(Text.of("Welcome ", Mention("444", TOM), "! ", Bold(("R&D <team>",))))
    )
    assert result.ok and result.message_id
    [call] = tg.api.of("sendMessage")
    assert call.params["parse_mode"] == "HTML"
    assert call.params["text"] == (
        'Welcome <a href="tg://user?id=444">&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</a>! '
        "<b>R&amp;D &lt;team&gt;</b>"
    )


async def test_long_text_is_split_without_breaking_tags(tg: Harness) -> None:
    items = Items(tuple((Bold((f"member {i}",)), " — 12 messages") for i in range(400)))
    buttons = (Button("More", "eng:more"),)
    result = await tg.adapter.perform(send(Text.of("Weekly digest\n", items), buttons=buttons))
    assert result.ok
    calls = tg.api.of("sendMessage")
    assert len(calls) >= 2
    for call in calls:
        html = call.params["text"]
        visible = re.sub(r"<[^>]+>", "", html).replace("&amp;", "&")
        assert len(visible) <= 4096
        assert html.count("<b>") == html.count("</b>")
    # Everything arrived, in order, and the buttons sit under the last part only.
    joined = "\n".join(c.params["text"] for c in calls)
    assert joined.index("member 0<") < joined.index("member 399<")
    assert [("reply_markup" in c.params) for c in calls] == [False] * (len(calls) - 1) + [True]
    assert result.message_id == str(tg.api._message_id)


async def test_buttons_become_an_inline_keyboard(tg: Harness) -> None:
    await tg.adapter.perform(
        send(Text.of("Coming?"), buttons=(Button("Going", "ev:42:y"), Button("No", "ev:42:n")))
    )
    [call] = tg.api.of("sendMessage")
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in keyboard] == [["ev:42:y", "ev:42:n"]]


async def test_callback_data_over_64_bytes_is_refused_loudly(tg: Harness) -> None:
    too_long = "ev:" + "ü" * 31  # 3 + 62 bytes
    with pytest.raises(ValueError, match="64"):
        await tg.adapter.perform(send(Text.of("Coming?"), buttons=(Button("Go", too_long),)))
    assert tg.api.of("sendMessage") == []


async def test_button_press_answered_by_the_core(tg: Harness) -> None:
    async def core(event: Event) -> None:
        assert isinstance(event, ButtonPressed)
        result = await tg.adapter.perform(
            AnswerButton(platform="telegram", to=event, text="You're in! See you Thursday.")
        )
        assert result.ok

    tg.on_event = core
    [event] = await tg.feed("callback_query.json")
    assert isinstance(event, ButtonPressed)
    assert (event.action_id, event.message_id) == ("ev:rsvp:42:yes", "5003")
    [answer] = tg.api.of("answerCallbackQuery")
    assert answer.params["callback_query_id"] == "4382bfdwdsb323b2d9"
    assert answer.params["text"] == "You're in! See you Thursday."


async def test_button_press_the_core_ignores_still_stops_the_spinner(tg: Harness) -> None:
    await tg.feed("callback_query.json")
    [answer] = tg.api.of("answerCallbackQuery")
    assert answer.params == {"callback_query_id": "4382bfdwdsb323b2d9"}


async def test_a_member_who_never_started_the_bot_is_reported_and_nothing_posted(
    tg: Harness,
) -> None:
    # The note with the deep link is the core's (test_telegram_with_core.py).
    tg.api.forbidden_chats[444] = NEVER_STARTED
    action = SendDirect(
        platform="telegram",
        user_id="444",
        text=Text.of("Your personal invite link: https://t.me/+secret"),
        fallback_space_id=str(GROUP),
        fallback_channel_id=str(GROUP),
        start_payload="welcome_444",
    )
    result = await tg.adapter.perform(action)
    assert (result.ok, result.error) == (False, "dm_not_started")
    assert [c.params["chat_id"] for c in tg.api.of("sendMessage")] == [444]


async def test_the_deep_link_opens_the_bot_with_the_payload(tg: Harness) -> None:
    link = tg.adapter.open_chat_link("welcome_444")
    assert link == f"https://t.me/{BOT_USERNAME}?start=welcome_444"
    assert tg.adapter.open_chat_link(None) == f"https://t.me/{BOT_USERNAME}"
    with pytest.raises(ValueError, match="1-64"):
        tg.adapter.open_chat_link("not allowed!")

    # Tom opens the link and presses Start: the core gets the payload back.
    [start] = await tg.feed("message_private_start.json")
    assert isinstance(start, CommandInvoked)
    assert (start.name, start.args, start.private) == ("start", ("welcome_444",), True)


async def test_private_message_without_fallback_reports_dm_not_started(tg: Harness) -> None:
    tg.api.forbidden_chats[444] = "Forbidden: bot was blocked by the user"
    result = await tg.adapter.perform(
        SendDirect(platform="telegram", user_id="444", text=Text.of("hi"))
    )
    assert (result.ok, result.error) == (False, "dm_not_started")


async def test_retry_after_is_waited_and_the_message_delivered(tg: Harness) -> None:
    tg.api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    started = time.monotonic()
    result = await tg.adapter.perform(send(Text.of("Reminder: meetup in one hour")))
    assert result.ok and result.message_id
    assert time.monotonic() - started >= 1.0  # waited as Telegram asked
    assert len(tg.api.of("sendMessage")) == 2  # refused once, then delivered


async def test_reply_to_a_message_in_a_topic_stays_in_the_topic(tg: Harness) -> None:
    [event] = await tg.feed("message_topic_reply.json")
    assert isinstance(event, MessagePosted)
    result = await tg.adapter.perform(Reply(platform="telegram", to=event, text=Text.of("Yum")))
    assert result.ok
    [call] = tg.api.of("sendMessage")
    assert call.params["chat_id"] == GROUP
    assert call.params["message_thread_id"] == 6000
    assert call.params["reply_parameters"]["message_id"] == 6010
    # and a Send to the event's channel lands in the same topic
    topic_news = Send(
        platform="telegram", space_id=str(GROUP), channel_id=event.channel_id, text=Text.of("x")
    )
    assert (await tg.adapter.perform(topic_news)).ok
    assert tg.api.of("sendMessage")[1].params["message_thread_id"] == 6000


async def test_private_reply_to_a_group_command_goes_to_the_member(tg: Harness) -> None:
    [event] = await tg.feed("message_command_with_botname.json")
    result = await tg.adapter.perform(
        Reply(platform="telegram", to=event, text=Text.of("Only for you"), private=True)
    )
    assert result.ok and not result.fell_back
    [call] = tg.api.of("sendMessage")
    assert call.params["chat_id"] == 111


PNG = Attachment("digest.png", b"\x89PNG\r\n", "image/png")


async def test_a_picture_is_sent_as_a_photo_with_the_text_as_its_caption(tg: Harness) -> None:
    buttons = (Button("Settings", "digest:settings"),)
    text = Text.of(Bold(("Weekly digest",)), " of R&D 📊")
    result = await tg.adapter.perform(send(text, buttons=buttons, attachments=(PNG,)))
    assert result.ok
    assert [c.method for c in tg.api.calls if c.method.startswith("send")] == ["sendPhoto"]
    [photo] = tg.api.of("sendPhoto")
    assert photo.params["chat_id"] == GROUP and photo.files
    assert photo.params["caption"] == "<b>Weekly digest</b> of R&amp;D 📊"
    assert photo.params["parse_mode"] == "HTML"
    assert photo.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == (
        "digest:settings"
    )
    assert result.message_id == "101"  # the photo's message


async def test_a_text_too_long_for_a_caption_comes_first_then_the_photo(tg: Harness) -> None:
    # 1,024 is the caption limit, counted as Telegram does (an emoji is two units).
    fits = Text.of("📊" + "x" * 1022)
    await tg.adapter.perform(send(fits, attachments=(PNG,)))
    assert [c.method for c in tg.api.calls if c.method.startswith("send")] == ["sendPhoto"]
    tg.api.calls.clear()
    too_long = Text.of("📊" + "x" * 1023, Bold(("!",)))
    buttons = (Button("Settings", "digest:settings"),)
    result = await tg.adapter.perform(send(too_long, buttons=buttons, attachments=(PNG,)))
    assert result.ok
    assert [c.method for c in tg.api.calls if c.method.startswith("send")] == [
        "sendMessage",
        "sendPhoto",
    ]
    [message], [photo] = tg.api.of("sendMessage"), tg.api.of("sendPhoto")
    assert message.params["text"].endswith("<b>!</b>")
    assert "caption" not in photo.params
    assert "reply_markup" not in message.params and "reply_markup" in photo.params


async def test_a_picture_telegram_refuses_as_a_photo_goes_as_a_file(tg: Harness) -> None:
    tg.api.fail_next("sendPhoto", 400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
    result = await tg.adapter.perform(send(Text.of("This week"), attachments=(PNG,)))
    assert result.ok
    [document] = tg.api.of("sendDocument")
    assert document.files and document.params["caption"] == "This week"


async def test_other_files_are_sent_as_documents_after_the_text(tg: Harness) -> None:
    csv = Attachment("activity.csv", b"week_start\n", "text/csv")
    result = await tg.adapter.perform(send(Text.of("Your export"), attachments=(csv,)))
    assert result.ok
    assert [c.method for c in tg.api.calls if c.method.startswith("send")] == [
        "sendMessage",
        "sendDocument",
    ]
    [doc] = tg.api.of("sendDocument")
    assert doc.params["chat_id"] == GROUP and doc.files and "caption" not in doc.params


async def test_edit_unchanged_message_is_not_an_error(tg: Harness) -> None:
    tg.api.fail_next(
        "editMessageText",
        400,
        "Bad Request: message is not modified: specified new message content and reply "
        "markup are exactly the same as a current content and reply markup of the message",
    )
    edit = Edit(
        platform="telegram",
        space_id=str(GROUP),
        channel_id=str(GROUP),
        message_id="5003",
        text=Text.of("Coffee meetup: 3 going"),
    )
    assert (await tg.adapter.perform(edit)).ok


async def test_create_invite_names_the_link_and_returns_its_url(tg: Harness) -> None:
    name = "Dana Rosenberg-Katz, ambassador of the year"
    result = await tg.adapter.perform(
        CreateInvite(platform="telegram", space_id=str(GROUP), channel_id=None, name=name)
    )
    assert result.ok and result.value and result.value.startswith("https://t.me/+")
    [call] = tg.api.of("createChatInviteLink")
    assert call.params["name"] == name[:32]


async def test_kick_lets_them_come_back_and_restrict_silences(tg: Harness) -> None:
    kick = Kick(platform="telegram", space_id=str(GROUP), user_id="555", reason="spam")
    assert (await tg.adapter.perform(kick)).ok
    assert [c.method for c in tg.api.calls[-2:]] == ["banChatMember", "unbanChatMember"]
    until = datetime(2030, 1, 1, tzinfo=UTC)
    restrict = Restrict(platform="telegram", space_id=str(GROUP), user_id="555", until=until)
    assert (await tg.adapter.perform(restrict)).ok
    [call] = tg.api.of("restrictChatMember")
    assert call.params["permissions"]["can_send_messages"] is False
    assert call.params["until_date"] == int(until.timestamp())
    await tg.adapter.perform(Unrestrict(platform="telegram", space_id=str(GROUP), user_id="555"))
    assert tg.api.of("restrictChatMember")[1].params["permissions"]["can_send_messages"] is True


async def test_missing_rights_come_back_as_a_failed_result(tg: Harness) -> None:
    tg.api.fail_next(
        "restrictChatMember",
        400,
        "Bad Request: not enough rights to restrict/unrestrict chat member",
    )
    result = await tg.adapter.perform(
        Restrict(platform="telegram", space_id=str(GROUP), user_id="555")
    )
    assert (result.ok, result.error) == (False, "forbidden")


async def test_roles_scheduled_events_and_unknown_actions_are_not_performed(tg: Harness) -> None:
    from dataclasses import dataclass

    from bot.actions import Action

    @dataclass(frozen=True, kw_only=True)
    class Teleport(Action):
        pass

    role = AssignRole(platform="telegram", space_id=str(GROUP), user_id="1", role="verified")
    event = SyncScheduledEvent(
        platform="telegram",
        space_id=str(GROUP),
        event_key="ev:1",
        title="Meetup",
        starts_at=datetime(2030, 1, 1, tzinfo=UTC),
        ends_at=datetime(2030, 1, 1, 2, tzinfo=UTC),
    )
    before = len(tg.api.calls)
    for action in (role, event, Teleport(platform="telegram")):
        with pytest.raises(UnsupportedAction, match="telegram adapter cannot perform"):
            await tg.adapter.perform(action)
    assert len(tg.api.calls) == before
    assert not tg.adapter.capabilities.roles and not tg.adapter.capabilities.scheduled_events


async def test_commands_published_per_scope_and_language(tg: Harness) -> None:
    specs = [
        CommandSpec("help", "List the commands you can use", needs_community=False),
        CommandSpec("digest", "Send the weekly digest now", permission=Permission.OWNER),
        CommandSpec("mute", "Mute a member", permission=Permission.MODERATOR),
    ]
    await tg.adapter.publish_commands(specs)
    calls = tg.api.of("setMyCommands")
    menus = {
        (c.params["scope"]["type"], c.params.get("language_code")): c.params["commands"]
        for c in calls
    }
    assert set(menus) == {
        (scope, lang)
        for scope in ("default", "all_chat_administrators")
        for lang in (None, "en", "he", "de")
    }
    for lang in (None, "en", "he", "de"):
        assert [c["command"] for c in menus[("default", lang)]] == ["help"]
        assert [c["command"] for c in menus[("all_chat_administrators", lang)]] == [
            "help",
            "digest",
            "mute",
        ]
    for lang in ("he", "de"):
        assert menus[("default", lang)][0]["description"] == gettext(
            lang, "List the commands you can use"
        )


async def test_command_names_telegram_cannot_show_are_refused(tg: Harness) -> None:
    with pytest.raises(ValueError, match="Set-Up"):
        await tg.adapter.publish_commands([CommandSpec("Set-Up", "Set up")])
