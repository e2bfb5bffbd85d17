"""The deep-link note names the button as Telegram's app shows it: "התחלה" in the
Hebrew app, with "Start" for members whose app is in English."""

from __future__ import annotations

from tg_core import BAKERY, GROUP_CHAT, NOA, TOM, Core, message, private_chat
from tg_fakeapi import NEVER_STARTED


async def test_the_hebrew_note_names_the_start_button_as_the_app_does(core: Core) -> None:
    await core.setup_group()
    await core.feed(message(NOA, private_chat(NOA), "/config set locale he"))
    core.api.forbidden_chats[444] = NEVER_STARTED
    await core.feed(message(TOM, GROUP_CHAT, "/welcome"))
    note = core.texts_to(BAKERY)[-1]
    assert "t.me/kehila_bot" in note
    assert '"התחלה" (Start)' in note
    assert '"התחל"' not in note
