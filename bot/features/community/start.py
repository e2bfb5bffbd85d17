"""/start: a member opens a private chat with the bot and gets what waits for them."""

from __future__ import annotations

from typing import Any

from bot import pending
from bot.commands import CommandSpec, OptionSpec
from bot.context import Context
from bot.feature import Router
from bot.i18n import N_

router = Router()

router.command(
    CommandSpec(
        "start",
        N_("Open a private chat with me and get what is waiting for you"),
        options=(OptionSpec("code", N_("The code from the link you followed"), required=False),),
        needs_community=False,
    )
)


@router.handles("start")
async def start(ctx: Context, args: dict[str, Any]) -> None:
    """Deliver the private messages kept while the member had not opened a chat
    (Telegram's deep link leads here); otherwise say hello."""
    actor = ctx.event.actor
    assert actor is not None
    waiting = await pending.take(ctx.uow, ctx.event.platform, actor.user_id, ctx.now)
    for message in waiting:
        ctx.act(message)
    if not waiting:
        ctx.reply(
            ctx._(
                N_("Hello {name}! I am the community bot. Send /help to see what you can do."),
                name=actor.display_name,
            ),
            private=True,
        )
