"""A choice made once: the buttons of one message (`Router.button(choice=True)`) are
one choice for each person who sees them. Their first press runs the handler and
closes the buttons (`AnswerButton.close`); a later press of any of them (before the
platform shows them closed, or from another device) is told so and changes nothing.

The choice is claimed like a job run (`job_run`, as the handler's first write), so two
presses, in one process or two, never both run it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from bot.actions import AnswerButton
from bot.context import Context
from bot.events import ButtonPressed
from bot.i18n import N_

CHOICE_JOB = "choice"
CHOICE_CLAIM_AT = datetime(2000, 1, 1, tzinfo=UTC)


def once_per_person(handler: Any, instance_id: str) -> Any:
    """The button handler wrapped: it runs for each person's first press on its
    message only; every press closes the message's buttons."""

    async def once(ctx: Context, event: ButtonPressed, payload: str) -> None:
        ctx.act(AnswerButton(platform=event.platform, to=event, close=True))
        # One choice per person and message (a message in a channel, such as a
        # welcome posted there because private messages were closed, may be
        # pressed by others); hashed: no account id is kept.
        who = event.actor.user_id if event.actor else ""
        where = f"{event.platform}|{event.channel_id}|{event.message_id}|{who}"
        key = hashlib.sha256(where.encode()).hexdigest()[:40]
        if await ctx.uow.jobs.claim(CHOICE_JOB, key, CHOICE_CLAIM_AT, ctx.now, instance_id):
            await handler(ctx, event, payload)
            return
        ctx.reply(
            ctx._(N_("You already answered this. Pressing it again changes nothing.")),
            private=True,
        )

    return once
