"""The written rules for platform errors an owner can fix, applied by the dispatcher
to every action that failed: a role the bot may not assign tells the owners which
role to move; a post to a configured channel that was deleted or refuses the bot
tells them once, until the setting changes (bot/channels.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot import channels
from bot.actions import Action, ActionResult, AssignRole, Reply
from bot.context import Context
from bot.directory import CommunityInfo
from bot.i18n import N_, translate

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

log = logging.getLogger("kehila.dispatcher")


async def apply(dispatcher: Dispatcher, action: Action, result: ActionResult, ctx: Context) -> None:
    """The written rules for platform errors the owner can fix."""
    log.warning(
        "%s on %s failed: %s %s",
        type(action).__name__,
        action.platform,
        result.error,
        result.detail,
    )
    if isinstance(action, AssignRole) and result.error == "forbidden" and ctx.community:
        role = result.detail or action.role

        async def tell(notice: Context) -> None:
            # Queued in the notice's own unit of work (run again if the database
            # is briefly unreachable), sent by the outbox's worker.
            notice.tell_owners(
                lambda locale: translate(
                    locale,
                    N_(
                        "I could not give a member the role {role}: my own role must be above it and I need the Manage Roles permission. Please move my role higher in the server settings."
                    ),
                    role=role,
                )
            )

        await dispatcher.run("dispatcher", tell, dispatcher.context(ctx.event, ctx.community, None))
    elif isinstance(action, Reply) and result.error == "not_found":
        return
    elif (place := channels.failed_post(action, result)) and ctx.community is not None:
        await _channel_trouble(dispatcher, action.platform, *place, result, ctx.community, ctx)


async def _channel_trouble(
    dispatcher: Dispatcher,
    platform: str,
    space_id: str,
    channel_id: str,
    result: ActionResult,
    community: CommunityInfo,
    ctx: Context,
) -> None:
    """A post to a configured channel failed: the owners hear it once, with what
    to do, until the setting changes."""
    for key in channels.configured_keys(dispatcher.services, community, channel_id):
        if not dispatcher.trouble.first_time(community.id, key):
            continue
        assert result.error is not None
        text = await channels.trouble_notice(
            dispatcher.services, community, platform, space_id, channel_id, key, result.error
        )
        notice = dispatcher.context(ctx.event, community, None)
        notice.tell_owners(lambda _locale: text)  # noqa: B023 (called at once)
        # Through a run: the notices are queued in its unit of work (the outbox).
        await dispatcher.run("dispatcher", _nothing, notice)


async def _nothing(ctx: Context) -> None:
    """A run with nothing to do but perform what is already queued."""
