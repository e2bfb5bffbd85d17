"""Core actions -> Bot API calls.

Each action type has one method, registered in `Outbound.actions` (the same shape
as every adapter's, bot.ports.ActionTable); Telegram has no roles and no scheduled
events, so those are not among them. Text is rendered to Telegram's HTML and split
under its length limit; a group that became a supergroup is followed to its new id.
A private message to someone who never started the bot comes back `dm_not_started`
(the core posts the deep link, bot/delivery.py).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from datetime import timedelta
from io import BytesIO
from typing import Any

from telegram import (
    Chat,
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ExtBot

from adapters.telegram.inbound import _TTLCache, parse_channel
from adapters.telegram.places import OTHER, Places
from adapters.telegram.render import render
from bot.actions import (
    Action,
    ActionResult,
    AnswerButton,
    ApproveJoinRequest,
    Attachment,
    Button,
    CreateInvite,
    Delete,
    Edit,
    Kick,
    Reply,
    Restrict,
    Send,
    SendDirect,
    Unrestrict,
)
from bot.events import ButtonPressed, CommandInvoked, Event, MessagePosted, ReactionAdded
from bot.invites import invite_code
from bot.markup import Text
from bot.ports import ActionTable

log = logging.getLogger(__name__)

CALLBACK_DATA_MAX_BYTES = 64
INVITE_NAME_MAX = 32
# Telegram counts a caption like a message: after entity parsing, in UTF-16 units.
CAPTION_LIMIT = 1024
# What sendPhoto takes (up to 10 MB; width + height at most 10,000).
PHOTO_TYPES = frozenset({"image/png", "image/jpeg"})


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """Inline keyboard: up to three short buttons a row, long labels one a row."""
    if not buttons:
        return None
    for b in buttons:
        size = len(b.action_id.encode("utf-8"))
        if size > CALLBACK_DATA_MAX_BYTES:
            raise ValueError(
                f"button action_id {b.action_id!r} is {size} bytes; Telegram's callback_data "
                f"holds {CALLBACK_DATA_MAX_BYTES}"
            )
    per_row = 3 if all(len(b.label) <= 12 for b in buttons) else 1
    rows = [
        [InlineKeyboardButton(b.label, callback_data=b.action_id) for b in buttons[i : i + per_row]]
        for i in range(0, len(buttons), per_row)
    ]
    return InlineKeyboardMarkup(rows)


def _is_photo(attachment: Attachment) -> bool:
    return attachment.mime_type in PHOTO_TYPES


def _input_file(attachment: Attachment) -> InputFile:
    return InputFile(BytesIO(attachment.data), filename=attachment.filename)


def _text_and_caption(
    text: Text, attachments: Sequence[Attachment]
) -> tuple[list[str], str | None]:
    """The text's messages, or none and the text as the caption of the first attachment
    when that is a photo and the whole text fits in a caption."""
    if attachments and _is_photo(attachments[0]):
        caption = render(text, CAPTION_LIMIT)
        if len(caption) == 1:
            return [], caption[0]
    return render(text), None


# Words of Telegram's errors about a file itself (not about the chat it goes to).
FILE_ERROR_WORDS = ("file", "photo", "image", "document", "too big", "too large", "dimension")


def _refuses_the_file(exc: NetworkError, *, anything_sent: bool) -> bool:
    """Telegram would not take this file (too large, not an image...), as opposed to a
    chat that takes nothing (not found, bot blocked, no rights): once something went
    to the chat in this send, any refusal is the file's."""
    return anything_sent or any(word in str(exc).lower() for word in FILE_ERROR_WORDS)


def _retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22.2+ warns that the value becomes a timedelta; both are read alike.
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _failure(exc: TelegramError) -> ActionResult:
    text = str(exc)
    low = text.lower()
    if isinstance(exc, RetryAfter):
        return ActionResult.failed("rate_limited", text, retry_after=_retry_after(exc))
    if isinstance(exc, Forbidden):
        return ActionResult.failed("forbidden", text)
    if isinstance(exc, BadRequest):
        if "not found" in low or "user_not_participant" in low or "participant_id_invalid" in low:
            return ActionResult.failed("not_found", text)
        if "not enough rights" in low or "administrator" in low or "can't" in low:
            return ActionResult.failed("forbidden", text)
        if "supergroup" in low:
            return ActionResult.failed("unsupported", text)
        return ActionResult.failed("failed", text)
    if isinstance(exc, NetworkError):
        return ActionResult.failed("failed", f"network: {text}")
    return ActionResult.failed("failed", text)


class Outbound:
    """Performs actions with the Application's bot. Remembers the groups that moved
    (migrated to a supergroup) and the button presses the core answered."""

    places: Places  # the inbound half's: a `Send`'s channel is resolved by name too

    def __init__(self, bot: ExtBot[Any], join_links: _TTLCache, answered: _TTLCache) -> None:
        self.bot = bot
        self.join_links = join_links  # the inbound half's: a declined request forgets its link
        self.answered = answered
        self.migrated: dict[int, int] = {}

    async def perform(self, action: Action) -> ActionResult:
        try:
            return await self.actions.perform(self, action)
        except ChatMigrated as exc:
            return ActionResult.failed("not_found", f"group migrated to {exc.new_chat_id}")
        except TelegramError as exc:
            log.info("telegram: %s failed: %s", type(action).__name__, exc)
            return _failure(exc)

    actions = ActionTable("telegram")

    def _chat(self, chat_id: int) -> int:
        return self.migrated.get(chat_id, chat_id)

    async def send(
        self,
        chat_id: int,
        thread_id: int | None,
        text: Text,
        *,
        buttons: Sequence[Button] = (),
        attachments: Sequence[Attachment] = (),
        reply_to: int | None = None,
    ) -> ActionResult:
        markup = keyboard(buttons)  # raises before anything is sent
        chat_id = self._chat(chat_id)
        try:
            return await self._send_all(chat_id, thread_id, text, markup, attachments, reply_to)
        except ChatMigrated as exc:
            self.migrated[chat_id] = int(exc.new_chat_id)
            return await self._send_all(
                int(exc.new_chat_id), thread_id, text, markup, attachments, reply_to
            )

    async def _send_all(
        self,
        chat_id: int,
        thread_id: int | None,
        text: Text,
        markup: InlineKeyboardMarkup | None,
        attachments: Sequence[Attachment],
        reply_to: int | None,
    ) -> ActionResult:
        """The text's chunks, then each file; buttons go with the last message. When
        the text fits under a photo there are no chunks: the photo carries it as its
        caption. A file Telegram refuses is left out (`files_refused`, and the core
        says so); the text it was to carry is sent as messages instead, and its
        buttons go on the last message that went."""
        bot = self.bot
        chunks, caption = _text_and_caption(text, attachments)
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        sent: Message | None = None
        with_markup = markup is None

        async def say(chunks: list[str], markup_last: bool) -> None:
            nonlocal sent, with_markup
            for i, chunk in enumerate(chunks):
                last = markup_last and i == len(chunks) - 1
                sent = await bot.send_message(
                    chat_id,
                    chunk,
                    parse_mode=ParseMode.HTML,
                    message_thread_id=thread_id,
                    reply_parameters=reply if sent is None else None,
                    reply_markup=markup if last else None,
                    link_preview_options=LinkPreviewOptions(is_disabled=len(chunks) > 1),
                )
                with_markup = with_markup or last

        await say(chunks, markup_last=not attachments)
        refused: list[str] = []
        problem = ""
        for j, att in enumerate(attachments):
            last = j == len(attachments) - 1
            options: dict[str, Any] = {
                "caption": caption if j == 0 else None,
                "parse_mode": ParseMode.HTML if caption and j == 0 else None,
                "message_thread_id": thread_id,
                "reply_parameters": reply if sent is None else None,
                "reply_markup": markup if last else None,
            }
            try:
                sent = await self._file(chat_id, att, options)
                with_markup = with_markup or last
            except NetworkError as exc:  # BadRequest and TimedOut among them
                if not _refuses_the_file(exc, anything_sent=sent is not None):
                    raise
                log.info("telegram: file %s refused: %s", att.filename, exc)
                refused.append(att.filename)
                problem = str(exc)
                if j == 0 and caption:  # the text it was to carry
                    await say(render(text), markup_last=False)
        if not with_markup and sent is not None:
            try:
                await bot.edit_message_reply_markup(chat_id, sent.message_id, reply_markup=markup)
            except TelegramError as exc:
                log.info("telegram: buttons of a refused file not moved: %s", exc)
        if sent is None:
            if refused:
                return ActionResult(
                    ok=False, error="file_refused", detail=problem, files_refused=tuple(refused)
                )
            return ActionResult.failed("failed", "nothing to send: empty text and no files")
        return ActionResult(
            ok=True, message_id=str(sent.message_id), detail=problem, files_refused=tuple(refused)
        )

    async def _file(self, chat_id: int, att: Attachment, options: dict[str, Any]) -> Message:
        """A photo is shown in the chat (sendPhoto); anything else, or a picture
        Telegram will not take as a photo, is a file to open (sendDocument)."""
        if _is_photo(att):
            try:
                return await self.bot.send_photo(chat_id, _input_file(att), **options)
            except BadRequest as exc:
                if "photo" not in str(exc).lower() and "image" not in str(exc).lower():
                    raise
                log.info("telegram: %s refused as a photo, sent as a file: %s", att.filename, exc)
        return await self.bot.send_document(chat_id, _input_file(att), **options)

    async def _direct(
        self,
        user_id: str,
        text: Text,
        buttons: Sequence[Button],
        attachments: Sequence[Attachment],
    ) -> ActionResult:
        """A private message. A bot may write only to people who opened a chat with
        it: a refusal comes back `dm_not_started`, and the core falls back."""
        try:
            return await self.send(
                int(user_id), None, text, buttons=buttons, attachments=attachments
            )
        except (Forbidden, BadRequest) as exc:
            low = str(exc).lower()
            closed = isinstance(exc, Forbidden) and (
                "initiate" in low or "blocked" in low or "can't send" in low
            )
            closed = closed or (isinstance(exc, BadRequest) and "chat not found" in low)
            if closed:
                return ActionResult.failed("dm_not_started", str(exc))
            if "deactivated" in low:
                return ActionResult.failed("not_found", str(exc))
            raise

    # --- performers (no roles, no scheduled events: see CAPABILITIES) ----------------

    @actions.performs(Send)
    async def _do_send(self, a: Send) -> ActionResult:
        place = self.places.resolve(a.space_id, a.channel_id) if a.space_id else None
        if a.space_id and place is None:
            return ActionResult.failed("not_found", f"no topic {a.channel_id} in this group")
        if place == OTHER or place is None:
            chat_id, thread_id = parse_channel(a.space_id or a.channel_id)
        else:
            chat_id, thread_id = place
        return await self.send(
            chat_id, thread_id, a.text, buttons=a.buttons, attachments=a.attachments
        )

    @actions.performs(Reply)
    async def _do_reply(self, a: Reply) -> ActionResult:
        to = a.to
        if a.private or getattr(to, "private", False):
            if to.actor is None:
                return ActionResult.failed("not_found", "the event has no actor to answer")
            return await self._direct(to.actor.user_id, a.text, a.buttons, a.attachments)
        where = _event_place(to)
        if where is None:
            return ActionResult.failed("not_found", f"cannot reply to {type(to).__name__}")
        chat_id, thread_id, message_id = where
        return await self.send(
            chat_id,
            thread_id,
            a.text,
            buttons=a.buttons,
            attachments=a.attachments,
            reply_to=message_id,
        )

    @actions.performs(SendDirect)
    async def _do_send_direct(self, a: SendDirect) -> ActionResult:
        return await self._direct(a.user_id, a.text, a.buttons, a.attachments)

    @actions.performs(Edit)
    async def _do_edit(self, a: Edit) -> ActionResult:
        chat_id, _ = parse_channel(a.channel_id or a.space_id)
        html = render(a.text)[0]
        try:
            msg = await self.bot.edit_message_text(
                html,
                chat_id=self._chat(chat_id),
                message_id=int(a.message_id),
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(a.buttons),
            )
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return ActionResult(ok=True, message_id=a.message_id)
            raise
        mid = str(msg.message_id) if isinstance(msg, Message) else a.message_id
        return ActionResult(ok=True, message_id=mid)

    @actions.performs(Delete)
    async def _do_delete(self, a: Delete) -> ActionResult:
        chat_id, _ = parse_channel(a.channel_id or a.space_id)
        await self.bot.delete_message(self._chat(chat_id), int(a.message_id))
        return ActionResult(ok=True, message_id=a.message_id)

    @actions.performs(Restrict)
    async def _do_restrict(self, a: Restrict) -> ActionResult:
        await self.bot.restrict_chat_member(
            self._chat(int(a.space_id)),
            int(a.user_id),
            ChatPermissions.no_permissions(),
            until_date=a.until,
        )
        return ActionResult(ok=True)

    @actions.performs(Unrestrict)
    async def _do_unrestrict(self, a: Unrestrict) -> ActionResult:
        await self.bot.restrict_chat_member(
            self._chat(int(a.space_id)), int(a.user_id), ChatPermissions.all_permissions()
        )
        return ActionResult(ok=True)

    @actions.performs(Kick)
    async def _do_kick(self, a: Kick) -> ActionResult:
        bot, chat_id, user_id = self.bot, self._chat(int(a.space_id)), int(a.user_id)
        await bot.ban_chat_member(chat_id, user_id)
        # Unban at once: a kick, not a ban; they may come back through an invite.
        await bot.unban_chat_member(chat_id, user_id, only_if_banned=True)
        return ActionResult(ok=True)

    @actions.performs(CreateInvite)
    async def _do_invite(self, a: CreateInvite) -> ActionResult:
        link = await self.bot.create_chat_invite_link(
            self._chat(int(a.space_id)), name=a.name[:INVITE_NAME_MAX] or None
        )
        return ActionResult(
            ok=True, value=link.invite_link, invite_code=invite_code(link.invite_link)
        )

    @actions.performs(ApproveJoinRequest)
    async def _do_approve(self, a: ApproveJoinRequest) -> ActionResult:
        bot, chat_id, user_id = self.bot, self._chat(int(a.space_id)), int(a.user_id)
        if a.approve:
            await bot.approve_chat_join_request(chat_id, user_id)
        else:
            self.join_links.pop((chat_id, user_id))
            await bot.decline_chat_join_request(chat_id, user_id)
        return ActionResult(ok=True)

    @actions.performs(AnswerButton)
    async def _do_answer(self, a: AnswerButton) -> ActionResult:
        update = a.to.raw
        if not isinstance(update, Update) or update.callback_query is None:
            return ActionResult.failed("not_found", "the button press has no Telegram query")
        query = update.callback_query
        self.answered.put(query.id, True)
        await self.bot.answer_callback_query(
            query.id, text=(a.text or None) and a.text[:200], show_alert=a.alert
        )
        message = query.message
        if a.close and message is not None and message.chat.type == Chat.PRIVATE:
            # Telegram cannot disable a button: the keyboard goes. In a group the
            # others may still need it.
            try:
                await self.bot.edit_message_reply_markup(
                    chat_id=message.chat.id, message_id=message.message_id, reply_markup=None
                )
            except TelegramError as exc:  # already gone ("message is not modified")
                log.info("telegram: could not remove the buttons of a choice made: %s", exc)
        return ActionResult(ok=True)


def _event_place(event: Event) -> tuple[int, int | None, int | None] | None:
    """(chat, topic, message to reply to) of an event, or None when it has no place."""
    if isinstance(event, MessagePosted | ButtonPressed | ReactionAdded | CommandInvoked):
        chat_id, thread_id = parse_channel(event.channel_id)
        message_id: int | None = None
        if isinstance(event, MessagePosted | ReactionAdded):
            message_id = int(event.message_id)
        elif isinstance(event, CommandInvoked) and isinstance(event.raw, Update):
            msg = event.raw.effective_message
            message_id = msg.message_id if msg is not None else None
        return chat_id, thread_id, message_id
    if event.space_id:
        return int(event.space_id), None, None
    return None
