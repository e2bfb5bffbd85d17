"""The Telegram adapter: python-telegram-bot's Application, driven inside our loop.

`start()` initializes the Application, registers one handler that turns every update
into core events, starts it and then the Updater (long polling, or a webhook server
when configured). `stop()` undoes it in reverse. Never `run_polling`: it owns the loop.
Updates become core events in `inbound.py`; actions become Bot API calls in
`outbound.py`.

Command menus are published after start; a Bot API that refuses them for a while
does not stop the bot: it runs without menus and tries again in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeDefault,
    ChatMember,
    Update,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import AIORateLimiter, Application, ContextTypes, TypeHandler
from telegram.request import BaseRequest

from adapters.telegram.inbound import AnonymousCommand, Inbound, _TTLCache, channel_key
from adapters.telegram.outbound import Outbound
from adapters.telegram.processor import ChatOrderedUpdateProcessor
from adapters.telegram.render import MAX_MESSAGE_LENGTH
from bot import redact
from bot.actions import Action, ActionResult
from bot.commands import CommandSpec, Permission
from bot.config import Config, ConfigError
from bot.events import Platform
from bot.i18n import LOCALES, N_, gettext, translate
from bot.ports import Capabilities, Channel, EventSink, Pace, Window, deliver

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
COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Seconds between attempts to publish command menus Telegram refused (a transient
# error): in the background, while the bot runs without them.
MENU_RETRY_DELAYS = (5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)

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
    # Telegram's published limits: about 30 messages a second overall, 20 a minute
    # in one group, about one a second in one private chat.
    pace=Pace(overall=Window(30, 1.0), group=Window(20, 60.0), private=Window(1, 1.0)),
)


@dataclass(frozen=True, slots=True)
class Menu:
    """One command menu: who sees it (scope) in which client language (None: any other)."""

    commands: tuple[BotCommand, ...]
    scope: BotCommandScope
    language: str | None


def _file_url(base_url: str) -> str | None:
    """`https://host/bot` -> `https://host/file/bot` (self-hosted Bot API servers)."""
    return base_url[: -len("bot")] + "file/bot" if base_url.endswith("/bot") else None


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
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
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
            .rate_limiter(
                AIORateLimiter(
                    # What the outbox is told the bot may send (`outbox.per_second`).
                    overall_max_rate=config.outbox.per_second.get("telegram", 30),
                    max_retries=max_retries,
                )
            )
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
        # Button presses the core answered, so the adapter does not answer them again.
        answered = _TTLCache(60.0, 10_000, clock)
        self.outbound = Outbound(self.application.bot, self.inbound.join_links, answered)
        self.outbound.places = self.inbound.places
        self._sleep = sleep
        # Publishing the menus Telegram refused at start, in the background.
        self.menu_retry: asyncio.Task[None] | None = None

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

    @property
    def connected(self) -> bool:
        """Taking updates now (for /readyz)."""
        app = self.application
        return app.running and app.updater is not None and app.updater.running

    async def pause(self) -> None:
        """Stop taking updates (stopping), and wait until those already fetched are
        handled (the core bounds the wait: `bot.drain_timeout_s`)."""
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.update_queue.join()

    async def stop(self) -> None:
        retry, self.menu_retry = self.menu_retry, None
        if retry is not None and not retry.done():
            retry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await retry
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    def open_chat_link(self, payload: str | None) -> str | None:
        """The deep link: it opens the bot, and Start sends `/start <payload>`."""
        if payload is not None and not START_PAYLOAD.match(payload):
            raise ValueError(f"start payload {payload!r}: Telegram allows 1-64 of A-Z a-z 0-9 _ -")
        return f"https://t.me/{self.username}" + (f"?start={payload}" if payload else "")

    async def rights(self, space_id: str) -> frozenset[str] | None:
        """What the bot may do in the group (`bot.ports.RIGHTS`): its administrator
        rights, and whether it reads messages (privacy mode off, or an administrator)."""
        bot = self.application.bot
        try:
            me = await bot.get_chat_member(int(space_id), bot.id)
        except (TelegramError, ValueError):
            return None
        found: set[str] = set()
        if me.status == ChatMember.OWNER:
            return frozenset(("read", "delete", "timeout", "kick", "ban"))
        if bot.bot.can_read_all_group_messages or me.status == ChatMember.ADMINISTRATOR:
            found.add("read")
        if me.status == ChatMember.ADMINISTRATOR:
            if getattr(me, "can_delete_messages", False):
                found.add("delete")
            if getattr(me, "can_restrict_members", False):
                found |= {"timeout", "kick", "ban"}
        return frozenset(found)

    async def find_channel(self, space_id: str, reference: str) -> Channel | None:
        return await self.inbound.places.find(space_id, reference)

    async def channels(self, space_id: str) -> Sequence[Channel]:
        return await self.inbound.places.listing(space_id)

    async def publish_commands(self, specs: Sequence[CommandSpec]) -> None:
        """The menus: members' commands for everyone, all commands for administrators,
        in each language. Never fails for Telegram's sake: menus it refuses now are
        retried in the background (`MENU_RETRY_DELAYS`) while the bot runs."""
        for spec in specs:
            if not COMMAND_NAME.match(spec.name):
                raise ValueError(f"command name {spec.name!r}: Telegram allows 1-32 of a-z 0-9 _")
        member = [s for s in specs if s.permission == Permission.MEMBER]
        menus: list[Menu] = []
        # No language_code: what clients in any other language see (English).
        for language in (None, *LOCALES):
            locale = language or "en"

            def menu(chosen: Sequence[CommandSpec], locale: str = locale) -> tuple[BotCommand, ...]:
                return tuple(
                    BotCommand(s.name, gettext(locale, s.description)[:256]) for s in chosen
                )

            menus.append(Menu(menu(member), BotCommandScopeDefault(), language))
            menus.append(Menu(menu(specs), BotCommandScopeAllChatAdministrators(), language))
        if self.menu_retry is not None:
            self.menu_retry.cancel()
            self.menu_retry = None
        left = await self._publish(menus)
        if left:
            log.warning(
                "telegram: %d of %d command menus not published yet; running without "
                "them and trying again in the background",
                len(left),
                len(menus),
            )
            self.menu_retry = asyncio.create_task(self._publish_later(left), name="telegram-menus")

    async def _publish(self, menus: Sequence[Menu]) -> list[Menu]:
        """Publish in order; the menus left when Telegram fails (for a while, it seems:
        the rest would fail too). A menu Telegram calls wrong is logged and dropped."""
        bot = self.application.bot
        for i, menu in enumerate(menus):
            try:
                await bot.set_my_commands(menu.commands, menu.scope, menu.language)
            except BadRequest as exc:
                log.error(
                    "telegram: command menu %s/%s refused: %s",
                    menu.scope.type,
                    menu.language or "-",
                    exc,
                )
            except TelegramError as exc:
                log.info("telegram: publishing command menus failed: %s", exc)
                return list(menus[i:])
        return []

    async def _publish_later(self, menus: list[Menu]) -> None:
        for delay in MENU_RETRY_DELAYS:
            await self._sleep(delay)
            try:
                menus = await self._publish(menus)
            except Exception:
                log.exception("telegram: publishing command menus failed")
                return
            if not menus:
                log.info("telegram: command menus published")
                return
        log.error(
            "telegram: %d command menus still not published; members see no command "
            "menu until the next start",
            len(menus),
        )

    async def perform(self, action: Action) -> ActionResult:
        return await self.outbound.perform(action)

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
            await deliver(sink, event)
        query = update.callback_query
        if query is not None and self.outbound.answered.pop(query.id) is None:
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
            await self.outbound.send(anon.chat_id, anon.thread_id, text, reply_to=anon.message_id)
        except TelegramError as exc:
            log.info("telegram: could not answer an anonymous command: %s", exc)


__all__ = ["ALLOWED_UPDATES", "CAPABILITIES", "TelegramAdapter", "channel_key"]
