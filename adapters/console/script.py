"""The console's line language, shared by the REPL, scripted mode and tests.

The lines (`LINES` below is what `/console` and `/help` show): directives that play
the simulated platform, bot commands, and plain messages. A directive the world
cannot play (a reply to someone who never posted, an invite nobody made) raises
`Refused` with one line saying why; a malformed one `ScriptError` with its usage.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from adapters.console.adapter import (
    SPACE_ID,
    ConsoleAdapter,
    ConsoleMember,
    invite_link,
    room_of,
)
from bot.commands import DurationTooLong, parse_duration
from bot.events import (
    Actor,
    ButtonPressed,
    CommandInvoked,
    InviteCreated,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    ReactionAdded,
    SpaceAdded,
)
from bot.invites import invite_code

MAX_ADVANCE = timedelta(days=366)
DIRECTIVES = {
    "as", "in", "join", "leave", "newinvite", "say", "reply", "react", "click", "dm", "dms",
    "advance", "console",
}  # fmt: skip

LINES = """\
Console lines (this terminal plays the platform; they are not bot commands):
  /as NAME                  act as NAME from now on
  NAME@SPACE                NAME's account in another space, SPACE (any name: a
                            group beside this one, as Telegram beside Discord, with
                            its own accounts); e.g. /join Dana@tg, /as Dana@tg
  /in CHANNEL               move to CHANNEL
  /join NAME [invite=CODE]  NAME joins (through an invite: its code or link)
  /leave NAME               NAME leaves
  /newinvite [CODE]         you make an invite link, as members do on the platform
                            (/invite is the bot's: your own link)
  /say NAME TEXT            NAME posts TEXT (without switching)
  /reply NAME TEXT          reply to NAME's last message (TEXT may be a /command)
  /react [EMOJI]            react to the last message someone else posted here
  /click N                  press button N of the last buttons shown to you
  /dm TEXT                  write to the bot privately (text or a /command)
  /dms NAME on|off|never    NAME opens or closes private messages (never: NAME has
                            not opened a chat with the bot yet, as on Telegram)
  /advance 3d               let time pass (s, m, h, d, w; at most 366 days),
                            firing what is due; time stands still otherwise
  /console                  this list;  /help  the bot's commands;  /quit  the end
  anything else             a message in the current channel;  # a comment"""


class ScriptError(ValueError):
    """A console line that cannot be understood; the message says how to write it."""

    def show(self) -> str:
        return f"usage: {self}"


class Refused(ScriptError):
    """A well-formed line the simulated world cannot play; the message says why."""

    def show(self) -> str:
        return str(self)


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

    @property
    def where(self) -> str:
        """Where lines are said now: `#general`, or `#general@tg` acting in `tg`."""
        return room_of(self.actor.space_id, self.channel)

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
        for space in self.adapter.spaces:  # as platforms announce every space at start
            await self._announce(space)

    async def _space(self, member: ConsoleMember) -> str:
        """MEMBER's space; another space than the console's own is announced the first
        time someone acts in it, as a platform does when the bot is added to a group
        (its admin then links it to the community with `/setup CODE`)."""
        if member.space and member.space not in self.adapter.spaces:
            self.adapter.spaces.append(member.space)
            await self._announce(member.space)
        return member.space_id

    async def _announce(self, space: str) -> None:
        await self.adapter.emit(
            SpaceAdded(
                platform="console",
                space_id=space,
                actor=self._actor(self.adapter.member(f"{self.adapter.admin}@{space}")),
                at=self.adapter.now(),
                title=space,
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
            if word == "help" and not rest.strip():
                self.adapter.tell(LINES)  # the console's own lines, after the bot's
            return
        self.actor.present = True  # only someone in the room posts there
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

    async def _console(self, rest: str) -> None:
        self.adapter.tell(LINES)

    async def _join(self, rest: str) -> None:
        parts = rest.split()
        if len(parts) not in (1, 2) or any(
            not p.startswith("invite=") or not invite_code(p[len("invite=") :]) for p in parts[1:]
        ):
            raise ScriptError("/join NAME [invite=CODE]")
        given = parts[1][len("invite=") :] if len(parts) == 2 else None
        code = invite_code(given) if given else None  # the link or the code, as pasted
        if given is not None and code not in self.adapter.invites:
            codes = sorted(self.adapter.invites)
            made = ", ".join(codes[:5]) + (", …" if len(codes) > 5 else "") or "none yet"
            raise Refused(
                f"no invite has the code {given} (invites: {made}); make one with "
                f"/newinvite, or /join {parts[0]} without one"
            )
        creator = self.adapter.members.get(self.adapter.invites[code] or "") if code else None
        member = self.adapter.member(parts[0])
        if creator is not None and creator.space != member.space:
            raise Refused(
                f"the invite {given} is one of {creator.space_id}, not of {member.space_id}"
            )
        member.present = True
        await self.adapter.emit(
            MemberJoined(
                platform="console",
                space_id=await self._space(member),
                actor=self._actor(member),
                at=self.adapter.now(),
                invite_code=code,
                confidence="exact" if code else "unknown",
                # Like Telegram and Discord: the platform says who made the invite.
                inviter_user_id=creator.user_id if creator else None,
                inviter_name=creator.name if creator else None,
            )
        )

    async def _newinvite(self, rest: str) -> None:
        parts = rest.split()
        if len(parts) > 1:
            raise ScriptError("/newinvite [CODE]")
        code = invite_code(parts[0]) if parts else invite_code(f"inv{self.adapter.next_id()}")
        if not code or any(c in code for c in "=/#@"):
            raise ScriptError("/newinvite [CODE], a code of letters and digits")
        if code in self.adapter.invites:
            raise Refused(f"the invite {code} exists already: /join NAME invite={code}")
        self.adapter.invites[code] = self.actor.user_id
        self.actor.present = True
        await self.adapter.emit(
            InviteCreated(
                platform="console",
                space_id=await self._space(self.actor),
                actor=self._actor(self.actor),
                at=self.adapter.now(),
                code=code,
                creator_user_id=self.actor.user_id,
            )
        )
        self.adapter.tell(
            f"{self.actor.handle} made the invite {invite_link(code)}: "
            f"/join NAME invite={code} joins through it"
        )

    async def _leave(self, rest: str) -> None:
        if not rest:
            raise ScriptError("/leave NAME")
        name = rest.split()[0]
        member = self.adapter.here(name)
        if member is None:
            raise Refused(
                f"{name.lstrip('@')} is not here (only someone who joined or posted can leave)"
            )
        member.present = False
        await self.adapter.emit(
            MemberLeft(
                platform="console",
                space_id=await self._space(member),
                actor=self._actor(member),
                at=self.adapter.now(),
            )
        )

    async def _say(self, rest: str) -> None:
        name, _, text = rest.partition(" ")
        if not name or not text:
            raise ScriptError("/say NAME TEXT")
        member = self.adapter.member(name)
        member.present = True
        await self._message(member, text)

    async def _reply(self, rest: str) -> None:
        name, _, text = rest.partition(" ")
        if not name or not text:
            raise ScriptError("/reply NAME TEXT")
        target = self.adapter.member(name)
        last = self.adapter.last_message.get(target.user_id)
        if last is None:
            raise Refused(
                f"{target.handle} has posted nothing to reply to; write without /reply, "
                f"or /say {target.handle} TEXT first"
            )
        self.actor.present = True
        if text.startswith("/"):  # a command sent as a reply (`/reply NAME /report spam`)
            await self._command(text, private=False, reply_to=(target, last[1]))
            return
        await self._message(self.actor, text, reply_to=(target.user_id, last[1]))

    async def _react(self, rest: str) -> None:
        emoji = rest.split()[0] if rest else "👍"
        candidates = [
            (uid, mid)
            for uid, (channel, mid) in self.adapter.last_message.items()
            if channel == self.channel
            and uid != self.actor.user_id
            and getattr(self.adapter.members.get(uid), "space", "") == self.actor.space
        ]
        if not candidates:
            raise Refused(f"nothing to react to: nobody else has posted in {self.where} yet")
        author, message_id = max(candidates, key=lambda pair: int(pair[1]))
        self.actor.present = True
        await self.adapter.emit(
            ReactionAdded(
                platform="console",
                space_id=await self._space(self.actor),
                actor=self._actor(self.actor),
                at=self.adapter.now(),
                channel_id=self.channel,
                message_id=message_id,
                emoji=emoji,
                message_author_id=author,
            )
        )
        # Platforms show a reaction under the message; the console says it.
        whose = self.adapter.members.get(author)
        self.adapter.tell(
            f"({self.actor.handle} reacted {emoji} to {whose.handle if whose else author}'s last message)"
        )

    async def _click(self, rest: str) -> None:
        where, shown = self.adapter.buttons_where(self.actor, self.channel)
        if not shown:
            raise Refused(
                f"no buttons to press: none were shown to {self.actor.handle}, privately "
                f"or in {self.where}"
            )
        try:
            index = int(rest) - 1
            if index < 0:
                raise IndexError(index)
            button, message_id = shown[index]
        except (ValueError, IndexError):
            raise ScriptError(f"/click N, with N from 1 to {len(shown)}") from None
        if message_id in self.adapter.closed:
            self.adapter.tell(
                "(these buttons are closed: the platform no longer offers them; this click "
                "stands for a tap sent before they closed)"
            )
        # Pressed in the private chat where the buttons were shown, as platforms say
        # (an edit of that message then goes there, not to the room the actor is in).
        private = where.startswith("@")
        await self.adapter.emit(
            ButtonPressed(
                platform="console",
                space_id=await self._space(self.actor),
                actor=self._actor(self.actor),
                at=self.adapter.now(),
                channel_id=where if private else self.channel,
                message_id=message_id,
                action_id=button.action_id,
                private=private,
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
            raise Refused(
                f"/advance goes at most {MAX_ADVANCE.days} days at a time; repeat it to go further"
            )
        await self.advance(delta)

    # --- events ---

    async def _command(
        self,
        line: str,
        *,
        private: bool,
        reply_to: tuple[ConsoleMember, str | None] | None = None,
    ) -> None:
        head, *args = line[1:].split()
        target, target_message = reply_to if reply_to else (None, None)
        await self.adapter.emit(
            CommandInvoked(
                platform="console",
                space_id="" if private else await self._space(self.actor),
                actor=self._actor(self.actor),
                at=self.adapter.now(),
                channel_id=self.actor.user_id if private else self.channel,
                name=head.lower(),
                args=tuple(args),
                private=private,
                message_id=self.adapter.next_id() if reply_to else None,
                reply_to_message_id=target_message,
                reply_to_user_id=target.user_id if target else None,
                reply_to_user_name=target.name if target else None,
                reply_to_text=self.adapter.texts.get(target_message) if target_message else None,
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
                space_id="" if private else await self._space(member),
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
