"""The adapter under the real core: App, dispatcher, features, the test database."""

from __future__ import annotations

from telegram import Update
from tg_core import Core, message, private_chat
from tg_harness import payload

from adapters.telegram.adapter import TelegramAdapter
from bot.actions import SendDirect
from bot.app import App
from bot.i18n import gettext
from bot.markup import Text

BAKERY = -1009876543210
# Noa's Telegram is in English: her community speaks the bot's default, English.
NOA = {"id": 111, "is_bot": False, "first_name": "Noa", "language_code": "en"}


async def feed(adapter: TelegramAdapter, data: dict[str, object]) -> None:
    await adapter.application.process_update(Update.de_json(data, adapter.application.bot))


async def test_group_admin_sets_up_the_group_and_gets_an_answer(
    core: Core,
) -> None:
    app, adapter, api = core
    assert api.of("setMyCommands")  # the core's commands were published at start
    await feed(adapter, payload("my_chat_member_added.json"))
    setup = {
        "update_id": 920000001,
        "message": {
            "message_id": 90,
            "from": NOA,
            "chat": {"id": BAKERY, "title": "Bakery Friends", "type": "supergroup"},
            "date": 1763861200,
            "text": "/setup Bakery Friends",
            "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
        },
    }
    await feed(adapter, setup)
    assert app.directory.community_of("telegram", str(BAKERY)) is not None
    answers = [c for c in api.of("sendMessage") if c.params["chat_id"] == BAKERY]
    assert answers, "the owner got no answer in the group"
    assert answers[-1].params["parse_mode"] == "HTML"
    assert "<b>Bakery Friends</b>" in answers[-1].params["text"]


def _message(
    update_id: int, sender: dict[str, object], chat: dict[str, object], text: str
) -> dict[str, object]:
    command = text.split()[0]
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id % 100000,
            "from": sender,
            "chat": chat,
            "date": 1763861300,
            "text": text,
            "entities": [{"offset": 0, "length": len(command), "type": "bot_command"}],
        },
    }


TOM = {"id": 444, "is_bot": False, "first_name": "Tom", "language_code": "en"}
GROUP_CHAT = {"id": BAKERY, "title": "Bakery Friends", "type": "supergroup"}


async def test_a_private_answer_waits_for_start_and_is_delivered_then(
    core: Core,
) -> None:
    """Tom never opened a chat with the bot: his /mydata answer is kept, the group
    gets a link, and pressing Start delivers the answer with its file."""
    from tg_fakeapi import NEVER_STARTED

    _app, adapter, api = core
    await feed(adapter, payload("my_chat_member_added.json"))
    await feed(adapter, _message(920000010, NOA, GROUP_CHAT, "/setup Bakery Friends"))
    api.forbidden_chats[444] = NEVER_STARTED
    await feed(adapter, _message(920000014, TOM, GROUP_CHAT, "Hi all"))  # a member now
    await feed(adapter, _message(920000011, TOM, GROUP_CHAT, "/mydata"))
    note = [c for c in api.of("sendMessage") if c.params["chat_id"] == BAKERY][-1]
    assert "t.me/" in note.params["text"] and "Start" in note.params["text"]
    assert not api.of("sendDocument")  # nothing private was posted in the group

    api.forbidden_chats.clear()
    private = {"id": 444, "type": "private", "first_name": "Tom"}
    await feed(adapter, _message(920000012, TOM, private, "/start"))
    [document] = api.of("sendDocument")
    assert document.params["chat_id"] == 444
    # Delivered once: a second /start only says hello.
    await feed(adapter, _message(920000013, TOM, private, "/start"))
    assert len(api.of("sendDocument")) == 1
    assert "Send /help" in api.of("sendMessage")[-1].params["text"]


# --- the deep link: the core's fallback for a member who never started the bot --------

JERRY = {"id": 444, "is_bot": False, "first_name": "<b>Tom", "last_name": "& Jerry</b>"}


def _said(update_id: int, sender: dict[str, object], text: str) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id % 100000,
            "from": sender,
            "chat": GROUP_CHAT,
            "date": 1763861300,
            "text": text,
        },
    }


def _waiting(text: str, **kw: object) -> SendDirect:
    return SendDirect(
        platform="telegram",
        user_id="444",
        text=Text.of(text),
        fallback_space_id=str(BAKERY),
        fallback_channel_id=str(BAKERY),
        start_payload="welcome_444",
        **kw,  # type: ignore[arg-type]
    )


async def _group_with_jerry(app: App, adapter: TelegramAdapter) -> None:
    await feed(adapter, payload("my_chat_member_added.json"))
    await feed(adapter, _message(920000020, NOA, GROUP_CHAT, "/setup Bakery Friends"))
    await feed(adapter, _said(920000021, JERRY, "hello all"))  # the core now knows them


async def test_a_member_who_never_started_the_bot_gets_one_deep_link_for_all_that_waits(
    core: Core,
) -> None:
    from tg_fakeapi import BOT_USERNAME, NEVER_STARTED

    app, adapter, api = core
    await _group_with_jerry(app, adapter)
    api.forbidden_chats[444] = NEVER_STARTED
    before = len(api.of("sendMessage"))
    first = await app.services.delivery.perform(
        _waiting("Your personal invite link: https://t.me/+secret")
    )
    assert first.ok and first.fell_back and first.pending
    attempts = api.of("sendMessage")[before:]
    assert [c.params["chat_id"] for c in attempts] == [444, BAKERY]
    post = attempts[1].params["text"]
    assert f'href="https://t.me/{BOT_USERNAME}?start=welcome_444"' in post
    assert '<a href="tg://user?id=444">&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</a>' in post
    assert "+secret" not in post  # the private content stays private

    # A second message waiting for them does not post the note again.
    second = await app.services.delivery.perform(_waiting("The rules: be kind."))
    assert second.fell_back and second.message_id == first.message_id
    assert [c.params["chat_id"] for c in api.of("sendMessage")[before:]] == [444, BAKERY, 444]

    # They open the link and press Start: both messages arrive, in order.
    api.forbidden_chats.clear()
    private = {"id": 444, "type": "private", "first_name": "<b>Tom"}
    await feed(adapter, _message(920000022, JERRY, private, "/start welcome_444"))
    delivered = [c.params["text"] for c in api.of("sendMessage") if c.params["chat_id"] == 444]
    assert any("+secret" in t for t in delivered)
    assert delivered.index(next(t for t in delivered if "+secret" in t)) < delivered.index(
        next(t for t in delivered if "be kind" in t)
    )


async def test_the_deep_link_note_speaks_the_communitys_language(
    core: Core,
) -> None:
    from tg_fakeapi import NEVER_STARTED

    app, adapter, api = core
    await _group_with_jerry(app, adapter)
    api.forbidden_chats[444] = NEVER_STARTED
    result = await app.services.delivery.perform(_waiting("Willkommen!", locale="de"))
    assert result.fell_back
    post = api.of("sendMessage")[-1].params["text"]
    expected = gettext(
        "de", "{mention}, I have a private message for you. Open {link} and press Start."
    )
    assert expected.split("{mention}")[1].split("{link}")[0] in post
    assert gettext("de", "a chat with me") in post


async def test_the_digest_arrives_as_a_photo_with_the_digest_as_its_caption(
    core: Core,
) -> None:
    """`/digest now` in the group: the owner gets, privately, one photo (the chart)
    whose caption is the digest, not a text and then a file to open."""
    _app, adapter, api = core
    await feed(adapter, payload("my_chat_member_added.json"))
    await feed(adapter, _message(920000020, NOA, GROUP_CHAT, "/setup Bakery Friends"))
    await feed(adapter, _message(920000021, TOM, GROUP_CHAT, "Who brings the bread?"))
    api.calls.clear()
    await feed(adapter, _message(920000022, NOA, GROUP_CHAT, "/digest now"))
    [photo] = api.of("sendPhoto")
    assert photo.params["chat_id"] == 111 and photo.files  # Noa, privately
    assert photo.params["parse_mode"] == "HTML"
    assert "<b>Weekly digest of Bakery Friends</b>" in photo.params["caption"]
    assert not api.of("sendDocument")
    assert not [c for c in api.of("sendMessage") if c.params["chat_id"] == 111]


# --- language: /setup from a Hebrew app, and Hebrew lines laid out right to left -------


async def test_setup_from_a_hebrew_app_speaks_hebrew_and_marks_latin_first_lines(
    core: Core,
) -> None:
    """With her Telegram in Hebrew, /setup makes a Hebrew community on Jerusalem time
    and says so; her /help lines that begin with a command carry a right-to-left
    mark, so Telegram lays them out right to left."""
    import unicodedata

    from bot.i18n import RLM

    app, adapter, api = core
    noa = {**NOA, "language_code": "he"}
    await feed(adapter, payload("my_chat_member_added.json"))
    await feed(adapter, _message(920000030, noa, GROUP_CHAT, "/setup Bakery Friends"))
    info = app.directory.community_of("telegram", str(BAKERY))
    assert info is not None and (info.locale, info.timezone) == ("he", "Asia/Jerusalem")
    said = [c for c in api.of("sendMessage") if c.params["chat_id"] == BAKERY][-1].params["text"]
    assert "שפה: עברית (לפי השפה של האפליקציה שלך)" in said
    assert "אזור זמן: Asia/Jerusalem" in said and "/config set timezone" in said

    await feed(adapter, _message(920000031, noa, GROUP_CHAT, "/help"))
    text = api.of("sendMessage")[-1].params["text"]
    rows = [line.removeprefix("• ") for line in text.split("\n") if line.startswith("• ")]
    assert rows and all(row.startswith(RLM + "<b>/") for row in rows), rows
    for line in text.split("\n"):
        first = next(
            (k for c in line if (k := unicodedata.bidirectional(c)) in ("L", "R", "AL")), None
        )
        assert first != "L", line  # every line of this answer reads right to left


async def test_export_is_in_the_menu_once_and_referrals_takes_a_name_alone(core: Core) -> None:
    """`/export` is declared by engagement and referrals: Telegram's menus list it
    once. On a text platform `/referrals Noa` is `/referrals show Noa`."""
    _app, _adapter, api = core
    for call in api.of("setMyCommands"):
        names = [c["command"] for c in call.params["commands"]]
        assert names.count("export") == (call.params["scope"]["type"] != "default")
    await core.setup_group()
    await core.feed(message(NOA, private_chat(NOA), "/referrals Noa"))
    assert core.texts_to(NOA["id"])[-1] == "Nobody joined through Noa yet."
