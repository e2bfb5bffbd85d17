"""The console's line language, shared by the REPL, scripted mode and tests.

/as NAME                  act as NAME from now on
/in CHANNEL               move to CHANNEL
/join NAME [invite=CODE]  NAME joins (through an invite: its code or link)
/leave NAME               NAME leaves
/say NAME TEXT            NAME posts TEXT (without switching)
/reply NAME TEXT          reply to NAME's last message
/react EMOJI              react to the last message someone else posted here
/click N                  press button N of the last message with buttons
/dm TEXT                  write to the bot privately (text or a /command)
/dms NAME on|off|never    NAME opens or closes private messages (never: NAME has
                          not opened a chat with the bot yet, as on Telegram)
/advance 3d               let time pass (s, m, h, d, w), firing due jobs (and sending
                          what the outbox holds as it comes due); at most
                          366 days at a time
/COMMAND ARGS             a bot command, e.g. /stats, /config set KEY VALUE
anything else             a message in the current channel
# comment                 ignored
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from adapters.console.adapter import SPACE_ID, ConsoleAdapter, ConsoleMember
from bot.commands import DurationTooLong, parse_duration
from bot.events import (
    Actor,
    ButtonPressed,
    CommandInvoked,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    ReactionAdded,
    SpaceAdded,
)
from bot.invites import invite_code

MAX_ADVANCE = timedelta(days=366)
DIRECTIVES = {"as", "in", "join", "leave", "say", "reply", "react", "click", "dm", "dms", "advance"}


class ScriptError(ValueError):
    """A console line that cannot be understood; the message says how to write it."""


class ConsoleSession:
    def __init__(
        self,
        adapter: ConsoleAdapter,
        advance: Callable[[timedelta], Awaitable[int]],
        *,
        title: str = "Console community",
        settle: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.adapter = adapter
        self.advance = advance
        # Run after each line: the console community sends what the line queued in
        # the outbox, as a worker would at once.
        self.settle = settle
        self.title = title
        self.actor: ConsoleMember = adapter.member(adapter.admin)
        self.channel = adapter.room

    async def open(self) -> None:
        """Announce the console space, as a platform does when the bot is added."""
        await self.adapter.emit(
            SpaceAdded(
                platform="console",
                space_id=SPACE_ID,
                actor=self._actor(self.actor),
                at=self.adapter.now(),
                title=self.title,
            )
        )

    def _actor(self, member: ConsoleMember) -> Actor:
        return Actor(
            user_id=member.user_id, display_name=member.name, is_platform_admin=member.admin
        )

    async def run(self, text: str) -> None:
        for line in text.splitlines():
            await self.line(line)

    async def line(self, raw: str) -> None:
        await self._line(raw)
        if self.settle is not None:
            await self.settle()

    async def _line(self, raw: str) -> None:
        line = raw.strip()
        if not line or line.startswith("#"):
            return
        if line.startswith("/"):
            word, _, rest = line[1:].partition(" ")
            word = word.lower()
            if word in DIRECTIVES:
                await getattr(self, f"_{word}")(rest.strip())
                return
            await self._command(line, private=False)
            return
        await self._message(self.actor, line)

    # --- directives ---

    async def _as(self, rest: str) -> None:
        if not rest:
            raise ScriptError("/as NAME")
        self.actor = self.adapter.member(rest.split()[0])

    async def _in(self, rest: str) -> None:
        if not rest:
            raise ScriptError("/in CHANNEL")
        self.channel = rest.split()[0].lstrip("#")

    async def _join(self, rest: str) -> None:
        parts = rest.split()
        if not parts:
            raise ScriptError("/join NAME [invite=CODE]")
        member = self.adapter.member(parts[0])
        given = next((p.split("=", 1)[1] for p in parts[1:] if p.startswith("invite=")), None)
        code = invite_code(given) if given else None  # the link or the code, as pasted
        member.present = True
        await self.adapter.emit(
            MemberJoined(
                platform="console",
                space_id=SPACE_ID,
                actor=self._actor(member),
                at=self.adapter.now(),
                invite_code=code,
                confidence="exact" if code else "unknown",
            )
        )

    async def _leave(self, rest: str) -> None:
        if not rest:
            raise ScriptError("/leave NAME")
        member = self.adapter.member(rest.split()[0])
        member.present = False
        await self.adapter.emit(
            MemberLeft(
                platform="console",
                space_id=SPACE_ID,
                actor=self._actor(member),
                at=self.adapter.now(),
            )
        )

    async def _say(self, rest: str) -> None:
        name, _, text = rest.partition(" ")
        if not name or not text:
            raise ScriptError("/say NAME TEXT")
        await self._message(self.adapter.member(name), text)

    async def _reply(self, rest: str) -> None:
        name, _, text = rest.partition(" ")
        if not name or not text:
            raise ScriptError("/reply NAME TEXT")
        target = self.adapter.member(name)
        last = self.adapter.last_message.get(target.user_id)
        await self._message(self.actor, text, reply_to=(target.user_id, last[1] if last else None))

    async def _react(self, rest: str) -> None:
        emoji = rest.split()[0] if rest else "👍"
        candidates = [
            (uid, mid)
            for uid, (channel, mid) in self.adapter.last_message.items()
            if channel == self.channel and uid != self.actor.user_id
        ]
        if not candidates:
            raise ScriptError("/react needs a message by someone else in this channel")
        author, message_id = max(candidates, key=lambda pair: int(pair[1]))
        await self.adapter.emit(
            ReactionAdded(
                platform="console",
                space_id=SPACE_ID,
                actor=self._actor(self.actor),
                at=self.adapter.now(),
                channel_id=self.channel,
                message_id=message_id,
                emoji=emoji,
                message_author_id=author,
            )
        )

    async def _click(self, rest: str) -> None:
        try:
            index = int(rest) - 1
            button, message_id = self.adapter.buttons[index]
        except (ValueError, IndexError):
            raise ScriptError(f"/click N, with N from 1 to {len(self.adapter.buttons)}") from None
        await self.adapter.emit(
            ButtonPressed(
                platform="console",
                space_id=SPACE_ID,
                actor=self._actor(self.actor),
                at=self.adapter.now(),
                channel_id=self.channel,
                message_id=message_id,
                action_id=button.action_id,
            )
        )

    async def _dm(self, rest: str) -> None:
        self.actor.never_started = False  # writing to the bot opens the chat
        if rest.startswith("/"):
            await self._command(rest, private=True)
        elif rest:
            await self._message(self.actor, rest, private=True)
        else:
            raise ScriptError("/dm TEXT")

    async def _dms(self, rest: str) -> None:
        parts = rest.split()
        if len(parts) != 2 or parts[1] not in ("on", "off", "never"):
            raise ScriptError("/dms NAME on|off|never")
        member = self.adapter.member(parts[0])
        member.dms_open = parts[1] != "off"
        member.never_started = parts[1] == "never"

    async def _advance(self, rest: str) -> None:
        try:
            delta = parse_duration(rest)
        except DurationTooLong:  # more days than a date can hold
            delta = None
        except ValueError:
            raise ScriptError("/advance 3d (s, m, h, d or w)") from None
        if delta is None or delta > MAX_ADVANCE:
            # Every due job fires in turn: years at once would run for minutes.
            raise ScriptError(
                f"/advance goes at most {MAX_ADVANCE.days} days at a time; repeat it to go further"
            )
        await self.advance(delta)

    # --- events ---

    async def _command(self, line: str, *, private: bool) -> None:
        head, *args = line[1:].split()
        await self.adapter.emit(
            CommandInvoked(
                platform="console",
                space_id="" if private else SPACE_ID,
                actor=self._actor(self.actor),
                at=self.adapter.now(),
                channel_id=self.actor.user_id if private else self.channel,
                name=head.lower(),
                args=tuple(args),
                private=private,
            )
        )

    async def _message(
        self,
        member: ConsoleMember,
        text: str,
        *,
        reply_to: tuple[str, str | None] | None = None,
        private: bool = False,
    ) -> None:
        message_id = self.adapter.next_id()
        channel = member.user_id if private else self.channel
        if not private:
            self.adapter.last_message[member.user_id] = (channel, message_id)
            self.adapter.texts[message_id] = text
        await self.adapter.emit(
            MessagePosted(
                platform="console",
                space_id="" if private else SPACE_ID,
                actor=self._actor(member),
                at=self.adapter.now(),
                channel_id=channel,
                message_id=message_id,
                text=text,
                reply_to_user_id=reply_to[0] if reply_to else None,
                reply_to_message_id=reply_to[1] if reply_to else None,
                reply_to_text=self.adapter.texts.get(reply_to[1])
                if reply_to and reply_to[1]
                else None,
                private=private,
            )
        )
