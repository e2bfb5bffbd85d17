"""A private chat with someone in several communities on one platform: which community
a command sent there is about. A private command from such a person, with no
community in focus yet, waits while the bot asks (a button per community, `FOCUS`);
the press puts that community in focus for the chat and runs the command."""

from __future__ import annotations

from bot.actions import Button
from bot.context import Context
from bot.directory import Directory
from bot.events import ButtonPressed, CommandInvoked
from bot.i18n import N_

# The button's prefix: "this private chat is about that community".
FOCUS = "use"


class Unplaced:
    """Private commands waiting for their person to say which community, by account."""

    def __init__(self) -> None:
        self.waiting: dict[tuple[str, str], CommandInvoked] = {}

    def ask(self, ctx: Context, directory: Directory, event: CommandInvoked) -> bool:
        """Whether the command's sender is in several communities: then it waits and
        `ctx` asks which one (the caller performs what `ctx` queued)."""
        actor = event.actor
        if actor is None:
            return False
        ids = sorted(directory.communities_of_account(event.platform, actor.user_id))
        choices = [directory.communities[i] for i in ids if i in directory.communities]
        if len(choices) < 2:
            return False
        self.waiting[(event.platform, actor.user_id)] = event
        ctx.reply(
            ctx._(N_("You are in several communities. Which one is this about?")),
            buttons=[Button(c.name, f"{FOCUS}:{c.id}") for c in choices],
        )
        return True

    def chosen(
        self, directory: Directory, event: ButtonPressed, payload: str
    ) -> CommandInvoked | None:
        """The person said which community (`payload`, its id): it is in focus from
        now on; the command that waited for it, to be dispatched again."""
        actor = event.actor
        if actor is None or not payload.isdigit():
            return None
        directory.focus(event.platform, actor.user_id, int(payload))
        waiting = self.waiting.pop((event.platform, actor.user_id), None)
        if waiting is not None and directory.private_community(event.platform, actor.user_id):
            return waiting
        return None
