"""Onboarding through Telegram: the private welcome's buttons, pressed as Telegram
sends the press (the callback data of the message the bot sent)."""

from __future__ import annotations

from tg_core import BAKERY, GROUP_CHAT, NOA, TOM, Core, message, press, private_chat
from tg_fakeapi import NEVER_STARTED

DEAD = "This button no longer works."


async def test_a_member_from_before_setup_can_accept_the_rules(core: Core) -> None:
    """Tom was in the group before /setup, so the bot never saw him join. He sends
    /welcome, gets the rules privately, and presses “I accept”."""
    await core.setup_group()
    await core.feed(message(NOA, private_chat(NOA), "/onboarding question add What do you bake?"))
    await core.feed(message(TOM, GROUP_CHAT, "/welcome"))
    [rules] = core.sent_to(444)
    assert "I accept" in str(rules.params["reply_markup"])

    await core.feed(press(TOM, rules))
    answers = core.texts_to(444)[1:]
    assert DEAD not in answers
    assert any("Thank you, and welcome to Bakery Friends!" in t for t in answers)
    assert any("Question 1 of 1: What do you bake?" in t for t in answers)

    # The question works too: he answers it with a message.
    await core.feed(message(TOM, private_chat(TOM), "Sourdough"))
    assert "Thank you for your answers!" in core.texts_to(444)[-1]
    # And pressing “I accept” again says so, not that the button is dead.
    await core.feed(press(TOM, rules))
    assert core.texts_to(444)[-1] == "You have already accepted the rules. Thank you!"


async def test_a_member_from_before_setup_who_never_started_the_bot(core: Core) -> None:
    """The rules wait for Start (the group gets the deep link); the button they then
    arrive with works."""
    await core.setup_group()
    core.api.forbidden_chats[444] = NEVER_STARTED
    await core.feed(message(TOM, GROUP_CHAT, "/welcome"))
    assert "t.me/kehila_bot" in core.texts_to(BAKERY)[-1]

    core.api.forbidden_chats.clear()
    await core.feed(message(TOM, private_chat(TOM), "/start"))
    rules = next(c for c in core.sent_to(444) if "reply_markup" in c.params)
    await core.feed(press(TOM, rules))
    assert "Thank you, and welcome to Bakery Friends!" in core.texts_to(444)[-1]
