"""Files Telegram will not take (too large, not an image, no right to send them):
the text still arrives, and a note says the file could not be sent."""

from __future__ import annotations

import re

from tg_core import BAKERY, GROUP_CHAT, NOA, TOM, Core, message, private_chat
from tg_fakeapi import FakeBotAPI
from tg_harness import GROUP, Harness

from bot.actions import Attachment, Button, Send, SendDirect
from bot.delivery import FILE_REFUSED
from bot.i18n import gettext
from bot.markup import Text

PNG = Attachment("digest.png", b"\x89PNG\r\n", "image/png")
JSON = Attachment("kehila-my-data.json", b"{}", "application/json")
TOO_BIG = (413, "Request Entity Too Large")


def sent(api: FakeBotAPI) -> list[tuple[str, str]]:
    """What reached the chat: (method, text or caption) of each call Telegram took."""
    return [
        (c.method, c.params.get("text") or c.params.get("caption") or "")
        for c in api.calls
        if c.ok and c.method.startswith("send")
    ]


def note(filename: str, locale: str = "en") -> str:
    return (
        gettext(locale, FILE_REFUSED)
        .replace("{filename}", filename)
        .replace("{platform}", "Telegram")
    )


# --- the adapter: what it sends and what it reports ---------------------------------


async def test_a_refused_document_leaves_the_text_and_is_reported(tg: Harness) -> None:
    tg.api.fail_next("sendDocument", 400, "Bad Request: file is too big")
    action = Send(
        platform="telegram",
        space_id=str(GROUP),
        channel_id=str(GROUP),
        text=Text.of("Your export"),
        attachments=(JSON,),
    )
    result = await tg.adapter.perform(action)
    assert result.ok and result.files_refused == ("kehila-my-data.json",)
    assert "too big" in result.detail
    assert sent(tg.api) == [("sendMessage", "Your export")]


async def test_a_photo_refused_both_ways_still_delivers_its_caption_and_buttons(
    tg: Harness,
) -> None:
    """The text was to be the photo's caption: it comes as a message, with the buttons."""
    tg.api.fail_next("sendPhoto", 400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
    tg.api.fail_next("sendDocument", *TOO_BIG)
    action = Send(
        platform="telegram",
        space_id=str(GROUP),
        channel_id=str(GROUP),
        text=Text.of("This week"),
        buttons=(Button("Settings", "digest:settings"),),
        attachments=(PNG,),
    )
    result = await tg.adapter.perform(action)
    assert result.ok and result.files_refused == ("digest.png",)
    assert sent(tg.api) == [("sendMessage", "This week")]
    [moved] = tg.api.of("editMessageReplyMarkup")
    assert moved.params["message_id"] == int(result.message_id or 0)
    assert moved.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == (
        "digest:settings"
    )


async def test_a_chat_that_takes_nothing_is_no_refused_file(tg: Harness) -> None:
    """A photo to someone who never opened a chat: the chat is the problem (the core
    posts the deep link), not the file."""
    tg.api.fail_next("sendPhoto", 400, "Bad Request: chat not found")
    result = await tg.adapter.perform(
        SendDirect(platform="telegram", user_id="444", text=Text.of("Hi"), attachments=(PNG,))
    )
    assert (result.ok, result.error, result.files_refused) == (False, "dm_not_started", ())


# --- through the core: what the member sees ---------------------------------------


async def test_mydata_too_big_to_send_gets_the_member_a_note(core: Core) -> None:
    await core.setup_group()
    await core.feed(message(TOM, GROUP_CHAT, "Hello!"))  # the bot knows Tom now
    core.api.fail_next("sendDocument", 400, "Bad Request: file is too big")
    await core.feed(message(TOM, private_chat(TOM), "/mydata"))
    # In the community's language (Noa set it up from a Hebrew Telegram).
    locale = next(iter(core.app.directory.communities.values())).locale
    here = gettext(locale, "Here is everything {community} stores about you.")
    assert [text for _, text in sent(core.api) if text][-2:] == [
        here.replace("{community}", "Bakery Friends"),
        note("kehila-my-data.json", locale),
    ]
    assert core.texts_to(444)[-1] == note("kehila-my-data.json", locale)
    assert not [c for c in core.api.of("sendDocument") if c.ok]


async def test_a_digest_chart_telegram_refuses_leaves_the_owner_the_text_and_a_note(
    core: Core,
) -> None:
    await core.setup_group()
    await core.feed(message(NOA, private_chat(NOA), "/config set locale de"))
    core.api.calls.clear()
    core.api.fail_next("sendPhoto", 400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
    core.api.fail_next("sendDocument", *TOO_BIG)
    await core.feed(message(NOA, GROUP_CHAT, "/digest now"))
    to_noa = core.texts_to(111)
    assert len(to_noa) == 2
    assert "Bakery Friends" in to_noa[0]  # the digest itself, as text
    chart = re.search(r"digest-\d+-\d{4}-\d\d-\d\d\.png", to_noa[1])
    assert chart is not None and to_noa[1] == note(chart[0], "de")
    assert not [c for c in core.sent_to(BAKERY)]  # nothing private went to the group
