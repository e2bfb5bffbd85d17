"""Buttons of a choice made, through PTB: the keyboard goes from the private chat, and
a second press (sent before it went, or from another device) gets an honest answer."""

from __future__ import annotations

from tg_core import GROUP_CHAT, TOM, Core, message, press, private_chat
from tg_harness import Harness

from bot.actions import AnswerButton
from bot.events import ButtonPressed, Event

ALREADY = "You already answered this. Pressing it again changes nothing."


def _known(core: Core, user_id: int) -> bool:
    community = core.app.directory.community_of("telegram", str(GROUP_CHAT["id"]))
    assert community is not None
    return core.app.directory.member(community.id, "telegram", str(user_id)) is not None


async def test_forgetme_after_no_keeps_the_data_when_yes_is_pressed_too(core: Core) -> None:
    await core.setup_group()
    await core.feed(message(TOM, GROUP_CHAT, "Hello everyone"))
    await core.feed(message(TOM, private_chat(TOM), "/forgetme"))
    [question] = [c for c in core.sent_to(444) if "reply_markup" in c.params]

    await core.feed(press(TOM, question, "No, keep it"))
    assert core.texts_to(444)[-1] == "Nothing was deleted."
    [closed] = core.api.of("editMessageReplyMarkup")
    assert (closed.params["chat_id"], closed.params["message_id"]) == (444, 5000)
    assert "inline_keyboard" not in str(closed.params.get("reply_markup"))

    # Tom's other phone still showed the keyboard: he presses "Yes, delete".
    await core.feed(press(TOM, question, "Yes, delete my data"))
    assert core.texts_to(444)[-1] == ALREADY
    assert _known(core, 444), "nothing was deleted"
    assert len(core.api.of("answerCallbackQuery")) == 2  # no spinner left turning


async def test_forgetme_yes_then_no_says_nothing_false(core: Core) -> None:
    await core.setup_group()
    await core.feed(message(TOM, GROUP_CHAT, "Hello everyone"))
    await core.feed(message(TOM, private_chat(TOM), "/forgetme"))
    [question] = [c for c in core.sent_to(444) if "reply_markup" in c.params]
    await core.feed(press(TOM, question, "Yes, delete my data"))
    assert core.texts_to(444)[-1].startswith("Done: everything stored about you here is deleted")
    assert not _known(core, 444)

    await core.feed(press(TOM, question, "No, keep it"))
    assert core.texts_to(444)[-1] == ALREADY  # not "Nothing was deleted."
    assert not _known(core, 444), "pressing a button does not make a new member"


async def test_the_rules_keyboard_goes_once_accepted(core: Core) -> None:
    await core.setup_group()
    await core.feed(message(TOM, GROUP_CHAT, "/welcome"))
    [rules] = core.sent_to(444)
    await core.feed(press(TOM, rules))
    assert "Thank you, and welcome to Bakery Friends!" in core.texts_to(444)[-1]
    [closed] = core.api.of("editMessageReplyMarkup")
    assert closed.params["chat_id"] == 444

    await core.feed(press(TOM, rules))
    assert core.texts_to(444)[-1] == "You have already accepted the rules. Thank you!"


async def test_a_choice_made_in_the_group_leaves_the_keyboard_to_the_others(
    tg: Harness,
) -> None:
    """A press on a message in the group: answered, and its keyboard stays."""

    async def answer(event: Event) -> None:
        assert isinstance(event, ButtonPressed)
        await tg.adapter.perform(AnswerButton(platform="telegram", to=event, close=True))

    tg.on_event = answer
    await tg.feed("callback_query.json")
    assert len(tg.api.of("answerCallbackQuery")) == 1
    assert tg.api.of("editMessageReplyMarkup") == []
