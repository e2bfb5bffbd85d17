"""The Telegram adapter: python-telegram-bot's Application, driven inside our loop.

`start()` initializes the Application, registers one handler that turns every update
into core events, starts it and then the Updater (long polling, or a webhook server
when configured). `stop()` undoes it in reverse. Never `run_polling`: it owns the loop.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeDefault,
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
from telegram.ext import AIORateLimiter, Application, ContextTypes, TypeHandler
from telegram.request import BaseRequest

from adapters.telegram.inbound import (
    AnonymousCommand,
    Inbound,
    _TTLCache,
    channel_key,
    parse_channel,
)
from adapters.telegram.processor import ChatOrderedUpdateProcessor
from adapters.telegram.render import MAX_MESSAGE_LENGTH, render
from bot import redact
from bot.actions import (
    Action,
    ActionResult,
    AnswerButton,
    ApproveJoinRequest,
    AssignRole,
    Attachment,
    Button,
    CreateInvite,
    Delete,
    Edit,
    Kick,
    RemoveRole,
    Reply,
    Restrict,
    Send,
    SendDirect,
    SyncScheduledEvent,
    Unrestrict,
    UnsupportedAction,
)
from bot.commands import CommandSpec, Permission
from bot.config import Config, ConfigError
from bot.events import (
    ButtonPressed,
    CommandInvoked,
    Event,
    MessagePosted,
    Platform,
    ReactionAdded,
)
from bot.i18n import LOCALES, N_, gettext, normalize_locale, translate
from bot.markup import Link, Mention, Text
from bot.ports import Capabilities, EventSink

log = logging.getLogger(__name__)

ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "callback_query",
    "chat_member",
    "my_chat_member",
    "chat_join_request",
    "message_reaction",
)
CALLBACK_DATA_MAX_BYTES = 64
INVITE_NAME_MAX = 32
COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
FALLBACK_DEDUP_S = 600.0

CAPABILITIES = Capabilities(
    roles=False,
    direct_messages=True,
    buttons=True,
    attachments=True,
    restrict=True,
    invites=True,
    scheduled_events=False,
    message_content=True,
    max_text_length=MAX_MESSAGE_LENGTH,
)


def _file_url(base_url: str) -> str | None:
    """`https://host/bot` -> `https://host/file/bot` (self-hosted Bot API servers)."""
    return base_url[: -len("bot")] + "file/bot" if base_url.endswith("/bot") else None


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


def _failure(exc: TelegramError) -> ActionResult:
    text = str(exc)
    low = text.lower()
    if isinstance(exc, RetryAfter):
        return ActionResult.failed("rate_limited", text)
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


class TelegramAdapter:
    """Implements bot.ports.Adapter for Telegram."""

    def __init__(
        self,
        config: Config,
        *,
        request: BaseRequest | None = None,
        get_updates_request: BaseRequest | None = None,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        section = config.telegram
        if section.token is None:
            raise ConfigError("telegram.token: not set (set KEHILA_TELEGRAM_TOKEN)")
        token = section.token.get_secret_value()
        self._config = config
        self._default_locale = config.bot.locale
        # httpx logs every request URL at INFO, and Bot API URLs contain the token.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        # PTB logs the Bot API URL, which holds the token, at DEBUG.
        redact.remember(token)
        if section.webhook_secret is not None:
            redact.remember(section.webhook_secret.get_secret_value())
        redact.install()

        builder = (
            Application.builder()
            .token(token)
            .base_url(section.base_url)
            .rate_limiter(AIORateLimiter(max_retries=max_retries))
            .concurrent_updates(ChatOrderedUpdateProcessor())
            .job_queue(None)  # our scheduler lives in jobs/, not in PTB
        )
        file_url = _file_url(section.base_url)
        if file_url is not None:
            builder = builder.base_file_url(file_url)
        if request is not None:
            builder = builder.request(request)
        if get_updates_request is not None:
            builder = builder.get_updates_request(get_updates_request)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.inbound = Inbound(self.application.bot, clock=clock)
        self._sink: EventSink | None = None
        self._fallbacks = _TTLCache(FALLBACK_DEDUP_S, 10_000, clock)
        self._answered = _TTLCache(60.0, 10_000, clock)
        self._migrated: dict[int, int] = {}

    # --- the port ------------------------------------------------------------------

    @property
    def platform(self) -> Platform:
        return "telegram"

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    @property
    def username(self) -> str:
        return self.application.bot.username

    async def start(self, sink: EventSink) -> None:
        section = self._config.telegram
        secret: str | None = None
        if section.mode == "webhook":
            if not section.webhook_url:
                raise ConfigError("telegram.webhook_url: required when telegram.mode = webhook")
            if section.webhook_secret is None:
                raise ConfigError(
                    "telegram.webhook_secret: required in webhook mode "
                    "(set KEHILA_TELEGRAM_WEBHOOK_SECRET)"
                )
            secret = section.webhook_secret.get_secret_value()
            if not WEBHOOK_SECRET.match(secret):
                raise ConfigError(
                    "telegram.webhook_secret = (hidden): expected 1-256 characters "
                    "of A-Z, a-z, 0-9, _ and -"
                )
        self._sink = sink
        app = self.application
        app.add_handler(TypeHandler(Update, self._on_update))
        app.add_error_handler(self._on_error)
        await app.initialize()
        try:
            await app.start()
            assert app.updater is not None
            if section.mode == "webhook":
                assert section.webhook_url is not None
                url_path = urlsplit(section.webhook_url).path.strip("/")
                await app.updater.start_webhook(
                    listen=section.webhook_listen,
                    port=section.webhook_port,
                    url_path=url_path,
                    webhook_url=section.webhook_url,
                    secret_token=secret,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            else:
                await app.updater.start_polling(allowed_updates=list(ALLOWED_UPDATES))
        except BaseException:
            if app.running:
                await app.stop()
            await app.shutdown()
            raise
        log.info("telegram: started as @%s (%s)", self.username, section.mode)
        if not app.bot.bot.can_read_all_group_messages:
            log.warning(
                "telegram: @%s has privacy mode on: in groups where it is not an "
                "administrator it sees only commands, so engagement counts stay empty "
                "(see docs/TELEGRAM.md, 'Privacy mode')",
                self.username,
            )

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def publish_commands(self, specs: Sequence[CommandSpec]) -> None:
        for spec in specs:
            if not COMMAND_NAME.match(spec.name):
                raise ValueError(f"command name {spec.name!r}: Telegram allows 1-32 of a-z 0-9 _")
        member = [s for s in specs if s.permission == Permission.MEMBER]
        bot = self.application.bot
        # No language_code: what clients in any other language see (English).
        for language in (None, *LOCALES):
            locale = language or "en"

            def menu(chosen: Sequence[CommandSpec], locale: str = locale) -> list[BotCommand]:
                return [BotCommand(s.name, gettext(locale, s.description)[:256]) for s in chosen]

            await bot.set_my_commands(menu(member), BotCommandScopeDefault(), language)
            await bot.set_my_commands(
                menu(list(specs)), BotCommandScopeAllChatAdministrators(), language
            )

    async def perform(self, action: Action) -> ActionResult:
        handler = self._performers.get(type(action))
        if handler is None:
            raise UnsupportedAction(f"telegram adapter cannot perform {type(action).__name__}")
        try:
            return await handler(self, action)
        except ChatMigrated as exc:
            return ActionResult.failed("not_found", f"group migrated to {exc.new_chat_id}")
        except TelegramError as exc:
            log.info("telegram: %s failed: %s", type(action).__name__, exc)
            return _failure(exc)

    # --- inbound -------------------------------------------------------------------

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        sink = self._sink
        if sink is None:
            return
        try:
            events = await self.inbound.events(update)
        except AnonymousCommand as anon:
            await self._answer_anonymous(anon)
            return
        for event in events:
            await sink(event)
        query = update.callback_query
        if query is not None and self._answered.pop(query.id) is None:
            # The core did not answer: stop the client's spinner anyway.
            try:
                await query.answer()
            except TelegramError as exc:
                log.debug("telegram: late answer to button press failed: %s", exc)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error(
            "telegram: error while handling update %s",
            update.update_id if isinstance(update, Update) else "-",
            exc_info=context.error,
        )

    async def _answer_anonymous(self, anon: AnonymousCommand) -> None:
        text = translate(
            self._default_locale,
            N_(
                "I can't tell who sent this command, because you are posting anonymously. "
                "Turn off “Remain anonymous” in your administrator rights, then try again."
            ),
        )
        try:
            await self._send(anon.chat_id, anon.thread_id, text, reply_to=anon.message_id)
        except TelegramError as exc:
            log.info("telegram: could not answer an anonymous command: %s", exc)

    # --- sending -------------------------------------------------------------------

    def _chat(self, chat_id: int) -> int:
        return self._migrated.get(chat_id, chat_id)

    async def _send(
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
        chunks = render(text)
        chat_id = self._chat(chat_id)
        try:
            return await self._send_chunks(
                chat_id, thread_id, chunks, markup, attachments, reply_to
            )
        except ChatMigrated as exc:
            self._migrated[chat_id] = int(exc.new_chat_id)
            return await self._send_chunks(
                int(exc.new_chat_id), thread_id, chunks, markup, attachments, reply_to
            )

    async def _send_chunks(
        self,
        chat_id: int,
        thread_id: int | None,
        chunks: list[str],
        markup: InlineKeyboardMarkup | None,
        attachments: Sequence[Attachment],
        reply_to: int | None,
    ) -> ActionResult:
        bot = self.application.bot
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        sent: Message | None = None
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            sent = await bot.send_message(
                chat_id,
                chunk,
                parse_mode=ParseMode.HTML,
                message_thread_id=thread_id,
                reply_parameters=reply if i == 0 else None,
                reply_markup=markup if last and not attachments else None,
                link_preview_options=LinkPreviewOptions(is_disabled=len(chunks) > 1),
            )
        for j, att in enumerate(attachments):
            last = j == len(attachments) - 1
            sent = await bot.send_document(
                chat_id,
                InputFile(BytesIO(att.data), filename=att.filename),
                message_thread_id=thread_id,
                reply_parameters=reply if sent is None else None,
                reply_markup=markup if last else None,
            )
        if sent is None:
            return ActionResult.failed("failed", "nothing to send: empty text and no files")
        return ActionResult(ok=True, message_id=str(sent.message_id))

    async def _direct(
        self,
        user_id: str,
        text: Text,
        buttons: Sequence[Button],
        attachments: Sequence[Attachment],
        fallback_chat: tuple[int, int | None] | None,
        start_payload: str | None,
        locale: str | None = None,
    ) -> ActionResult:
        if start_payload is not None and not START_PAYLOAD.match(start_payload):
            raise ValueError(
                f"start payload {start_payload!r}: Telegram allows 1-64 of A-Z a-z 0-9 _ -"
            )
        uid = int(user_id)
        try:
            return await self._send(uid, None, text, buttons=buttons, attachments=attachments)
        except (Forbidden, BadRequest) as exc:
            low = str(exc).lower()
            closed = isinstance(exc, Forbidden) and (
                "initiate" in low or "blocked" in low or "can't send" in low
            )
            closed = closed or (isinstance(exc, BadRequest) and "chat not found" in low)
            if not closed:
                if "deactivated" in low:
                    return ActionResult.failed("not_found", str(exc))
                raise
            if fallback_chat is None:
                return ActionResult.failed("dm_closed", str(exc))
            return await self._fallback(uid, fallback_chat, start_payload, str(exc), locale)

    async def _fallback(
        self,
        user_id: int,
        chat: tuple[int, int | None],
        payload: str | None,
        why: str,
        community_locale: str | None = None,
    ) -> ActionResult:
        key = (chat[0], user_id, payload)
        earlier = self._fallbacks.get(key)
        if isinstance(earlier, str):
            return ActionResult(
                ok=True, message_id=earlier, fell_back=True, pending=True, detail=why
            )
        known = self.inbound.known_user(user_id)
        name, language = known if known else (await self._member_name(chat[0], user_id), None)
        # The community's language first: the note is posted in its group.
        locale = normalize_locale(community_locale or language or self._default_locale)
        link = f"https://t.me/{self.username}" + (f"?start={payload}" if payload else "")
        text = translate(
            locale,
            N_("{mention}, I have a private message for you. Open {link} and press Start."),
            mention=Mention(str(user_id), name),
            link=Link(link, gettext(locale, N_("a chat with me"))),
        )
        result = await self._send(chat[0], chat[1], text)
        if result.ok and result.message_id:
            self._fallbacks.put(key, result.message_id)
        return ActionResult(
            ok=result.ok,
            message_id=result.message_id,
            error=result.error,
            detail=why,
            fell_back=True,
            pending=True,
        )

    async def _member_name(self, chat_id: int, user_id: int) -> str:
        try:
            member = await self.application.bot.get_chat_member(chat_id, user_id)
        except TelegramError:
            return str(user_id)
        return member.user.full_name

    # --- performers ----------------------------------------------------------------

    async def _do_send(self, a: Send) -> ActionResult:
        chat_id, thread_id = parse_channel(a.channel_id or a.space_id)
        return await self._send(
            chat_id, thread_id, a.text, buttons=a.buttons, attachments=a.attachments
        )

    async def _do_reply(self, a: Reply) -> ActionResult:
        to = a.to
        where = _event_place(to)
        if a.private or getattr(to, "private", False):
            if to.actor is None:
                return ActionResult.failed("not_found", "the event has no actor to answer")
            in_private = bool(getattr(to, "private", False))
            return await self._direct(
                to.actor.user_id,
                a.text,
                a.buttons,
                a.attachments,
                None if in_private or where is None else where[:2],
                None,
                a.locale,
            )
        if where is None:
            return ActionResult.failed("not_found", f"cannot reply to {type(to).__name__}")
        chat_id, thread_id, message_id = where
        return await self._send(
            chat_id,
            thread_id,
            a.text,
            buttons=a.buttons,
            attachments=a.attachments,
            reply_to=message_id,
        )

    async def _do_send_direct(self, a: SendDirect) -> ActionResult:
        fallback: tuple[int, int | None] | None = None
        if a.fallback_space_id:
            fallback = parse_channel(a.fallback_channel_id or a.fallback_space_id)
        return await self._direct(
            a.user_id, a.text, a.buttons, a.attachments, fallback, a.start_payload, a.locale
        )

    async def _do_edit(self, a: Edit) -> ActionResult:
        chat_id, _ = parse_channel(a.channel_id or a.space_id)
        html = render(a.text)[0]
        try:
            msg = await self.application.bot.edit_message_text(
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

    async def _do_delete(self, a: Delete) -> ActionResult:
        chat_id, _ = parse_channel(a.channel_id or a.space_id)
        await self.application.bot.delete_message(self._chat(chat_id), int(a.message_id))
        return ActionResult(ok=True, message_id=a.message_id)

    async def _do_role(self, a: AssignRole | RemoveRole) -> ActionResult:
        return ActionResult.failed("unsupported", "Telegram has no roles")

    async def _do_scheduled(self, a: SyncScheduledEvent) -> ActionResult:
        return ActionResult.failed("unsupported", "Telegram has no scheduled events")

    async def _do_restrict(self, a: Restrict) -> ActionResult:
        await self.application.bot.restrict_chat_member(
            self._chat(int(a.space_id)),
            int(a.user_id),
            ChatPermissions.no_permissions(),
            until_date=a.until,
        )
        return ActionResult(ok=True)

    async def _do_unrestrict(self, a: Unrestrict) -> ActionResult:
        await self.application.bot.restrict_chat_member(
            self._chat(int(a.space_id)), int(a.user_id), ChatPermissions.all_permissions()
        )
        return ActionResult(ok=True)

    async def _do_kick(self, a: Kick) -> ActionResult:
        bot, chat_id, user_id = self.application.bot, self._chat(int(a.space_id)), int(a.user_id)
        await bot.ban_chat_member(chat_id, user_id)
        # Unban at once: a kick, not a ban; they may come back through an invite.
        await bot.unban_chat_member(chat_id, user_id, only_if_banned=True)
        return ActionResult(ok=True)

    async def _do_invite(self, a: CreateInvite) -> ActionResult:
        link = await self.application.bot.create_chat_invite_link(
            self._chat(int(a.space_id)), name=a.name[:INVITE_NAME_MAX] or None
        )
        return ActionResult(ok=True, value=link.invite_link)

    async def _do_approve(self, a: ApproveJoinRequest) -> ActionResult:
        bot, chat_id, user_id = self.application.bot, self._chat(int(a.space_id)), int(a.user_id)
        if a.approve:
            await bot.approve_chat_join_request(chat_id, user_id)
        else:
            self.inbound.join_links.pop((chat_id, user_id))
            await bot.decline_chat_join_request(chat_id, user_id)
        return ActionResult(ok=True)

    async def _do_answer(self, a: AnswerButton) -> ActionResult:
        update = a.to.raw
        if not isinstance(update, Update) or update.callback_query is None:
            return ActionResult.failed("not_found", "the button press has no Telegram query")
        query = update.callback_query
        self._answered.put(query.id, True)
        await self.application.bot.answer_callback_query(
            query.id, text=(a.text or None) and a.text[:200], show_alert=a.alert
        )
        return ActionResult(ok=True)

    _performers: dict[type[Action], Callable[[Any, Any], Awaitable[ActionResult]]] = {
        Send: _do_send,
        Reply: _do_reply,
        SendDirect: _do_send_direct,
        Edit: _do_edit,
        Delete: _do_delete,
        AssignRole: _do_role,
        RemoveRole: _do_role,
        Restrict: _do_restrict,
        Unrestrict: _do_unrestrict,
        Kick: _do_kick,
        CreateInvite: _do_invite,
        ApproveJoinRequest: _do_approve,
        SyncScheduledEvent: _do_scheduled,
        AnswerButton: _do_answer,
    }


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


__all__ = ["ALLOWED_UPDATES", "CAPABILITIES", "TelegramAdapter", "channel_key", "keyboard"]
