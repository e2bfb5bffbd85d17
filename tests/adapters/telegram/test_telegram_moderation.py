"""Moderator alerts through python-telegram-bot: the real Application fed updates as
Telegram sends them, against the fake Bot API, under the real core."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tg_core import (
    BAKERY,
    GROUP_CHAT,
    NOA,
    NOW,
    TOM,
    Core,
    joined_message,
    message,
    press,
    private_chat,
)
from tg_fakeapi import Call

RINA: dict[str, Any] = {"id": 555, "is_bot": False, "first_name": "Rina", "language_code": "en"}


async def configure(core: Core, *lines: str) -> None:
    for line in lines:
        await core.feed(message(NOA, private_chat(NOA), line))


def alerts_to_noa(core: Core, word: str) -> list[Call]:
    return [c for c in core.sent_to(111) if word in c.params["text"]]


def edits(core: Core) -> list[str]:
    return [c.params["text"] for c in core.api.of("editMessageText")]


def answers(core: Core) -> list[str]:
    return [str(c.params.get("text")) for c in core.api.of("answerCallbackQuery")]


async def test_a_flood_alert_its_buttons_and_the_incident_log(core: Core) -> None:
    await core.setup_group()
    await configure(
        core, "/config set moderation.flood on", "/config set moderation.flood_per_minute 3"
    )
    for i in range(6):
        await core.feed(message(TOM, GROUP_CHAT, f"cheap followers here {i}"))
    await core.app.outbox.drain()
    [alert] = alerts_to_noa(core, "Flood in")
    assert "Tom posted 4 messages within a minute" in alert.params["text"]
    labels = [b["text"] for row in alert.params["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Delete message", "Time out", "Kick", "Ban", "Handled", "False alarm"]

    # Delete: the flagged message goes, and the alert says who deleted it.
    await core.feed(press(NOA, alert, "Delete message"))
    [deleted] = core.api.of("deleteMessage")
    assert deleted.params["chat_id"] == BAKERY
    assert "Noa deleted the message" in edits(core)[-1]
    kept = core.api.of("editMessageText")[-1].params["reply_markup"]["inline_keyboard"]
    assert [b["text"] for row in kept for b in row] == labels[1:]  # not Delete again
    # Time out, refused: the bot is no administrator. The alert says so honestly.
    core.api.fail_next(
        "restrictChatMember",
        400,
        "Bad Request: not enough rights to restrict/unrestrict chat member",
    )
    await core.feed(press(NOA, alert, "Time out"))
    assert "it did not work, the bot lacks the right to do it" in edits(core)[-1]
    # False alarm closes it; the same button pressed again says who closed it.
    await core.feed(press(NOA, alert, "False alarm"))
    assert "Noa called it a false alarm" in edits(core)[-1]
    assert "reply_markup" not in core.api.of("editMessageText")[-1].params
    await core.feed(press(NOA, alert, "False alarm"))
    assert answers(core)[-1].startswith("Already closed: Noa called it a false alarm")
    await core.feed(press(NOA, alert, "Delete message"))
    assert answers(core)[-1].startswith("Already done: Noa deleted the message")
    assert len(core.api.of("deleteMessage")) == 1
    # A member pressing a moderator's button (a forwarded alert) is refused.
    await core.feed(press(TOM, alert, "Kick"))
    assert answers(core)[-1] == "Only moderators and owners can use these buttons."
    assert not core.api.of("banChatMember")

    await core.feed(message(NOA, private_chat(NOA), "/incidents"))
    log = core.texts_to(111)[-1]
    assert "Flood · Tom · false alarm" in log
    assert "Noa deleted the message" in log and "the bot lacks the right" in log

    await core.feed(message(NOA, private_chat(NOA), "/moderation status"))
    status = core.texts_to(111)[-1]
    assert "Floods: on" in status and "Watched words: off" in status
    # The bot is no administrator of the group here, and privacy mode is on.
    assert "privacy mode is on and the bot is no administrator" in status
    assert (
        "“Delete message” needs the administrator right to delete messages, which the bot "
        "does not have." in status
    )
    assert "“Ban” needs the administrator right to ban users" in status
    assert "“Time out” was refused, the bot lacks the right" in status


async def test_a_report_by_reply_keeps_the_reporter_private(core: Core) -> None:
    await core.setup_group()
    await core.feed(message(TOM, GROUP_CHAT, "you are all idiots"))
    report = message(RINA, GROUP_CHAT, "/report rude")
    tom_message = message(TOM, GROUP_CHAT, "you are all idiots")
    report["message"]["reply_to_message"] = tom_message["message"]
    await core.feed(report)
    await core.app.outbox.drain()
    [alert] = alerts_to_noa(core, "Report in")
    text = alert.params["text"]
    assert "a member reported a message by Tom" in text and "rude" in text
    assert "Rina" not in text and "you are all idiots" in text
    assert any("Thank you for your report" in t for t in core.texts_to(555))
    # The /report message itself is deleted from the group; Tom got nothing.
    [deleted] = core.api.of("deleteMessage")
    assert deleted.params["message_id"] == report["message"]["message_id"]
    assert not core.texts_to(444)
    # /report without a reply explains itself.
    await core.feed(message(RINA, GROUP_CHAT, "/report"))
    assert "Reply to the message you want to report" in core.texts_to(555)[-1]


async def test_a_raid_on_telegram_says_what_cannot_be_known(core: Core) -> None:
    await core.setup_group()
    await configure(
        core, "/config set moderation.raid on", "/config set moderation.surge_per_minute 3"
    )
    users = [{"id": 7000 + i, "is_bot": False, "first_name": f"Bot{i}"} for i in range(6)]
    for user in users:
        await core.feed(joined_message(user))
    await core.app.outbox.drain()
    [alert] = alerts_to_noa(core, "Raid in")
    assert "4 members joined within minutes" in alert.params["text"]
    assert "Telegram does not say how old an account is" in alert.params["text"]
    assert [b["text"] for row in alert.params["reply_markup"]["inline_keyboard"] for b in row] == [
        "Handled",
        "False alarm",
    ]
    # When the surge is over, the alert is edited with the final count.
    await core.app.advance(timedelta(minutes=11))
    assert any("6 members joined" in t for t in edits(core))


async def test_an_unanswered_question_reaches_the_owner_once(core: Core) -> None:
    await core.setup_group()
    await configure(core, "/config set moderation.questions on", "/config set timezone UTC")
    await core.feed(message(TOM, GROUP_CHAT, "Does anyone know when the shop opens?", at=NOW))
    await core.app.advance(timedelta(hours=3, minutes=50))
    assert not alerts_to_noa(core, "Unanswered question")
    # NOW is 01:28 UTC: due at 05:28, at night; sent when the day starts (08:00).
    await core.app.advance(timedelta(hours=2))
    assert not alerts_to_noa(core, "Unanswered question")
    await core.app.advance(timedelta(hours=1))
    [alert] = alerts_to_noa(core, "Unanswered question")
    assert "Tom asked 6 hours ago" in alert.params["text"]
    assert "t.me/c/9876543210/" in alert.params["text"]
    await core.app.advance(timedelta(hours=8))
    assert len(alerts_to_noa(core, "Unanswered question")) == 1


async def test_watched_words_and_the_hourly_cap(core: Core) -> None:
    await core.setup_group()
    await configure(
        core,
        "/config set moderation.watch on",
        "/config set moderation.alerts_per_hour 2",
        "/watch add קריפטו*",
    )
    assert "1 entry in the list" in core.texts_to(111)[-1]
    people = [{"id": 8000 + i, "is_bot": False, "first_name": f"P{i}"} for i in range(5)]
    for person in people:
        await core.feed(message(person, GROUP_CHAT, "הצטרפו לקבוצת הקריפטו שלנו"))
    await core.app.advance(timedelta(seconds=5))  # a private chat takes one a second
    alerts = alerts_to_noa(core, "Watched word in")
    assert len(alerts) == 2 and "P0 wrote “הקריפטו”" in alerts[0].params["text"]
    assert "Watched entry: קריפטו*" in alerts[0].params["text"]
    await core.app.advance(timedelta(hours=1))
    [summary] = alerts_to_noa(core, "more incidents within the hour")
    assert (
        "3 more incidents" in summary.params["text"] and "Watched word: 3" in summary.params["text"]
    )
    # The held incidents are in the log.
    await core.feed(message(NOA, private_chat(NOA), "/incidents"))
    assert core.texts_to(111)[-1].count("Watched word") == 5


async def test_each_moderator_s_copy_of_the_alert_shows_who_acted(core: Core) -> None:
    await core.setup_group()
    await core.feed(message(RINA, GROUP_CHAT, "hello"))  # Rina is a member now
    await configure(
        core,
        "/staff set moderator Rina",
        "/config set moderation.flood on",
        "/config set moderation.flood_per_minute 3",
    )
    for i in range(4):
        await core.feed(message(TOM, GROUP_CHAT, f"cheap followers here {i}"))
    await core.app.advance(timedelta(seconds=5))
    [for_noa] = alerts_to_noa(core, "Flood in")
    [for_rina] = [c for c in core.sent_to(555) if "Flood in" in c.params["text"]]
    await core.feed(press(NOA, for_noa, "Delete message"))
    await core.app.advance(timedelta(seconds=5))
    rina_edits = [c for c in core.api.of("editMessageText") if c.params["chat_id"] == 555]
    assert rina_edits and "Noa deleted the message" in rina_edits[-1].params["text"]
    assert "Delete message" in str(for_rina.params["reply_markup"])


async def test_setup_says_privately_what_moderation_lacks_here(core: Core) -> None:
    await core.setup_group()  # the bot is no administrator of the group
    [note] = [t for t in core.texts_to(111) if "/moderation status" in t]
    assert "privacy mode" in note or "מצב הפרטיות" in note  # Noa's app is in Hebrew
    assert not any("/moderation status" in t for t in core.texts_to(BAKERY))


async def test_a_report_the_bot_may_not_delete_tells_the_reporter(core: Core) -> None:
    await core.setup_group()
    report = message(RINA, GROUP_CHAT, "/report")
    report["message"]["reply_to_message"] = message(TOM, GROUP_CHAT, "buy my course")["message"]
    core.api.fail_next("deleteMessage", 400, "Bad Request: message can't be deleted")
    await core.feed(report)
    thanks = core.texts_to(555)[-1]
    assert "Thank you for your report" in thanks
    assert "delete it yourself if you want nobody to see who reported" in thanks
