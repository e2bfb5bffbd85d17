"""The console adapter: a simulated space where you act as any member.

It is an adapter like the others (events in through the sink, actions out through
`perform`), plus a small world: who is here, the last message of each member, the
invites, and the buttons last shown to each member and in each channel (numbered,
for `/click N`). Besides its own space ("console", Discord-like), the world holds
any other space a line names (`Dana@tg`: Dana's account in the space `tg`), as a
Telegram group beside a Discord server: its own accounts, so one person there is
another account (user id `dana@tg`), for the bot another member until they link.
Every performed action is kept in `performed`, so tests assert on structured
actions rather than on rendered text; what the console itself says to its user
(not the bot) is kept in `notes`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.actions import (
    Action,
    ActionResult,
    AnswerButton,
    ApproveJoinRequest,
    AssignRole,
    Ban,
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
    Unrestrict,
)
from bot.commands import CommandSpec
from bot.events import Event, Platform
from bot.invites import invite_code
from bot.markup import Text
from bot.ports import ActionTable, Capabilities, Channel, EventSink, deliver

SPACE_ID = "console"


def _room(reference: str) -> str:
    return reference.strip().lstrip("#").strip()


def room_of(space_id: str, channel: str) -> str:
    """Where a channel's messages are shown: `#general`, or `#general@tg` in another
    space than the console's own."""
    return f"#{channel}" if space_id in (SPACE_ID, "") else f"#{channel}@{space_id}"


def account_key(name: str) -> tuple[str, str, str]:
    """NAME (`Dana`, `@Dana` or `Dana@tg`) as (its name, its space: "" for the
    console's own, its user id: `dana`, `dana@tg`)."""
    base, _, space = name.strip().lstrip("@").partition("@")
    space = "" if space.lower() == SPACE_ID else space.lower()
    return base, space, base.lower() + (f"@{space}" if space else "")


def invite_link(code: str) -> str:
    return f"console://join/{code}"


@dataclass
class ConsoleMember:
    name: str
    user_id: str
    admin: bool = False
    roles: set[str] = field(default_factory=set)
    restricted: bool = False
    dms_open: bool = True
    # Like Telegram: the member never opened a chat with the bot, so the bot may not
    # write first (the core posts a note in the channel and keeps the message).
    never_started: bool = False
    present: bool = False
    space: str = ""  # the space this account belongs to; "" the console's own

    @property
    def space_id(self) -> str:
        return self.space or SPACE_ID

    @property
    def handle(self) -> str:
        """How the console names this account: `Dana`, or `Dana@tg` in another space."""
        return f"{self.name}@{self.space}" if self.space else self.name


@dataclass(frozen=True)
class Performed:
    """An action the console performed, and who sees its text."""

    action: Action
    text: str
    audience: str  # "#channel", or "@name" for private


class ConsoleAdapter:
    platform: Platform = "console"
    capabilities = Capabilities(
        roles=True,
        direct_messages=True,
        buttons=True,
        attachments=True,
        restrict=True,
        invites=True,
        scheduled_events=False,
        message_content=True,
        max_text_length=100_000,
    )

    def __init__(
        self,
        *,
        room: str = "general",
        admin: str = "owner",
        echo: Callable[[str], None] | None = None,
        files_dir: Path | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.room = room
        self.admin = admin
        self.echo = echo
        self.files_dir = files_dir
        self.now = now or (lambda: datetime.now(UTC))
        self.sink: EventSink | None = None
        self.members: dict[str, ConsoleMember] = {}
        self.performed: list[Performed] = []
        self.notes: list[str] = []  # what the console told its user (not the bot's words)
        # The buttons last shown where they can be pressed: "@user id" privately,
        # "#channel" in a channel; the most recent last. Each: (button, message id).
        self.button_sets: dict[str, list[tuple[Button, str]]] = {}
        self.closed: set[str] = set()  # messages whose buttons a choice closed
        self.last_message: dict[str, tuple[str, str]] = {}  # user id -> (channel, message id)
        self.texts: dict[str, str] = {}  # message id -> text, as platforms give a reply's
        # Invites by code (normal form): who made it on the platform, None for the bot.
        self.invites: dict[str, str | None] = {}
        self.commands: list[CommandSpec] = []
        self.last_id = 0  # message and invite ids count up from here
        self.spaces: list[str] = []  # the other spaces announced (SpaceAdded), by id

    # --- the port ---

    async def start(self, sink: EventSink) -> None:
        self.sink = sink

    async def stop(self) -> None:
        self.sink = None

    async def publish_commands(self, specs: Sequence[CommandSpec]) -> None:
        self.commands = list(specs)

    def open_chat_link(self, payload: str | None) -> str | None:
        """As Telegram's deep link: what a member types to open the chat."""
        return "/dm /start" + (f" {payload}" if payload else "")

    async def find_channel(self, space_id: str, reference: str) -> Channel | None:
        """A room name (with or without `#`): the console makes a room by naming it."""
        room = _room(reference)
        if not self._known(space_id) or not room or any(c.isspace() for c in room):
            return None
        return Channel(room, f"#{room}")

    async def channels(self, space_id: str) -> Sequence[Channel]:
        if not self._known(space_id):
            return []
        rooms = [
            self.room,
            *(
                channel
                for uid, (channel, _) in self.last_message.items()
                if uid in self.members and self.members[uid].space_id == space_id
            ),
        ]
        return [Channel(r, f"#{r}") for r in dict.fromkeys(rooms)]

    def _known(self, space_id: str) -> bool:
        return space_id == SPACE_ID or space_id in self.spaces

    async def perform(self, action: Action) -> ActionResult:
        return await self.actions.perform(self, action)

    # --- actions (no scheduled events: the console has no calendar) ---

    actions = ActionTable("console")

    @actions.performs(Send)
    async def _send(self, action: Send) -> ActionResult:
        room = _room(action.channel_id) or self.room
        return self._show(action, action.text, room_of(action.space_id, room), action.buttons)

    @actions.performs(Reply)
    async def _reply(self, action: Reply) -> ActionResult:
        actor = action.to.actor
        private = action.private or getattr(action.to, "private", False)
        member = self._member_by_id(actor.user_id) if actor else None
        if private and member is not None and member.never_started:
            return ActionResult.failed("dm_not_started", member.name)
        if private and actor:
            audience, where = f"@{self._name(actor.user_id)}", f"@{actor.user_id}"
        else:
            room = getattr(action.to, "channel_id", "") or self.room
            audience = where = room_of(action.to.space_id, room)
        return self._show(action, action.text, audience, action.buttons, where=where)

    @actions.performs(SendDirect)
    async def _send_direct(self, action: SendDirect) -> ActionResult:
        member = self._member_by_id(action.user_id)
        if member is not None and member.never_started:
            return ActionResult.failed("dm_not_started", member.name)
        if member is not None and not member.dms_open:
            return ActionResult.failed("dm_closed", member.name)
        audience = f"@{self._name(action.user_id)}"
        return self._show(action, action.text, audience, action.buttons, where=f"@{action.user_id}")

    @actions.performs(Edit)
    async def _edit(self, action: Edit) -> ActionResult:
        # The edited message's old buttons go; its new ones (if any) are shown.
        for where, shown in list(self.button_sets.items()):
            if any(message_id == action.message_id for _, message_id in shown):
                del self.button_sets[where]
        # The same message, edited: it keeps its id (so a later press on it is a
        # press on the message its feature sent and knows).
        same = action.message_id
        if action.channel_id.startswith("@"):  # a private message
            user_id = action.channel_id[1:]
            audience = f"@{self._name(user_id)}"
            return self._show(
                action, action.text, audience, action.buttons, where=f"@{user_id}", message_id=same
            )
        audience = room_of(action.space_id, action.channel_id)
        return self._show(action, action.text, audience, action.buttons, message_id=same)

    @actions.performs(Delete)
    async def _delete(self, action: Delete) -> ActionResult:
        return self._note(action, f"(message {action.message_id} deleted)")

    @actions.performs(AssignRole, RemoveRole)
    async def _role(self, action: AssignRole | RemoveRole) -> ActionResult:
        member = self._member_by_id(action.user_id)
        if member is None:
            return ActionResult.failed("not_found", action.user_id)
        adding = isinstance(action, AssignRole)
        (member.roles.add if adding else member.roles.discard)(action.role)
        return self._note(action, f"({member.name} {'+' if adding else '-'}role {action.role})")

    @actions.performs(Restrict, Unrestrict)
    async def _restrict(self, action: Restrict | Unrestrict) -> ActionResult:
        member = self._member_by_id(action.user_id)
        if member is None:
            return ActionResult.failed("not_found", action.user_id)
        member.restricted = isinstance(action, Restrict)
        state = "restricted" if member.restricted else "may post again"
        return self._note(action, f"({member.name} {state})")

    @actions.performs(Kick, Ban)
    async def _kick(self, action: Kick | Ban) -> ActionResult:
        member = self._member_by_id(action.user_id)
        if member is None:
            return ActionResult.failed("not_found", action.user_id)
        member.present = False
        return self._note(action, f"({member.name} removed)")

    @actions.performs(CreateInvite)
    async def _create_invite(self, action: CreateInvite) -> ActionResult:
        code = invite_code(f"inv{self.next_id()}")
        self.invites[code] = None  # made by the bot
        return ActionResult(ok=True, value=invite_link(code), invite_code=code)

    @actions.performs(AnswerButton)
    async def _answer_button(self, action: AnswerButton) -> ActionResult:
        if action.text:
            self._note(action, f"(kehila, on the button: {action.text})")
        if action.close:
            # A private message's buttons close (Telegram removes them, Discord
            # disables them); a channel's stay for the others. The console still lets
            # them be clicked: such a click stands for a tap sent before they closed.
            for where, shown in self.button_sets.items():
                pressed = any(m == action.to.message_id for _, m in shown)
                if pressed and where.startswith("@") and action.to.message_id not in self.closed:
                    self.closed.add(action.to.message_id)
                    self.tell("(the platform closes the buttons of that message now)")
        return ActionResult(ok=True)

    @actions.performs(ApproveJoinRequest)
    async def _approve(self, action: ApproveJoinRequest) -> ActionResult:
        return self._note(action, f"(join request {'approved' if action.approve else 'declined'})")

    # --- the world ---

    def member(self, name: str) -> ConsoleMember:
        """The account called NAME (`Dana`, or `Dana@tg` in the space `tg`), made on
        first mention. The admin (`owner`) is the admin of every space, as whoever
        added the bot there."""
        base, space, key = account_key(name)
        found = self.members.get(key)
        if found is None:
            found = self.members[key] = ConsoleMember(
                name=base, user_id=key, admin=base.lower() == self.admin.lower(), space=space
            )
        return found

    def _member_by_id(self, user_id: str) -> ConsoleMember | None:
        return self.members.get(user_id)

    def _name(self, user_id: str) -> str:
        member = self.members.get(user_id)
        return member.handle if member else user_id

    def next_id(self) -> str:
        self.last_id += 1
        return str(self.last_id)

    def here(self, name: str) -> ConsoleMember | None:
        """The member called NAME if they are in the room (joined, or took part)."""
        found = self.members.get(account_key(name)[2])
        return found if found is not None and found.present else None

    @property
    def buttons(self) -> list[tuple[Button, str]]:
        """The buttons shown last, wherever they were."""
        return next(reversed(self.button_sets.values()), [])

    def buttons_for(self, member: ConsoleMember, channel: str) -> list[tuple[Button, str]]:
        """The buttons MEMBER can press now: the latest shown to them privately or in
        CHANNEL (a member cannot press another member's private buttons)."""
        return self.buttons_where(member, channel)[1]

    def buttons_where(
        self, member: ConsoleMember, channel: str
    ) -> tuple[str, list[tuple[Button, str]]]:
        """`buttons_for`, with where they were shown: `@<user id>` (privately) or the room."""
        mine = (f"@{member.user_id}", room_of(member.space_id, channel))
        return next(
            (
                (where, shown)
                for where, shown in reversed(self.button_sets.items())
                if where in mine
            ),
            ("", []),
        )

    async def emit(self, event: Event) -> None:
        if self.sink is None:
            raise RuntimeError("the console adapter is not started")
        await deliver(self.sink, event)

    # --- output ---

    def _show(
        self,
        action: Action,
        text: Text,
        audience: str,
        buttons: Sequence[Button],
        *,
        where: str | None = None,
        message_id: str | None = None,
    ) -> ActionResult:
        message_id = message_id or self.next_id()
        rendered = text.plain()
        attachments = getattr(action, "attachments", ())
        for attachment in attachments:
            rendered += "\n" + self._save(attachment.filename, attachment.data)
        if buttons:
            where = where or audience
            self.button_sets.pop(where, None)  # re-inserted: the most recent last
            self.button_sets[where] = [(b, message_id) for b in buttons]
            rendered += "\n" + "  ".join(f"[{i}] {b.label}" for i, b in enumerate(buttons, 1))
        self.performed.append(Performed(action, rendered, audience))
        if self.echo:
            self.echo(f"  kehila → {audience}: " + rendered.replace("\n", "\n    "))
        return ActionResult(ok=True, message_id=message_id)

    def tell(self, text: str) -> None:
        """The console speaking to its user (not the bot): a note, a refusal, help."""
        self.notes.append(text)
        if self.echo:
            self.echo("  " + text.replace("\n", "\n  "))

    def _note(self, action: Action, text: str) -> ActionResult:
        self.performed.append(Performed(action, text, "log"))
        if self.echo:
            self.echo(f"  {text}")
        return ActionResult(ok=True)

    def _save(self, filename: str, data: bytes) -> str:
        if self.files_dir is None:
            return f"(file {filename}, {len(data):,} bytes)"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / filename
        path.write_bytes(data)
        return f"(file saved: {path})"
