"""Communities and their spaces: /setup, /spaces, /config, /staff, /help and /start.

A space (server, group, room) the bot is added to is unclaimed until an
administrator of that space runs /setup, which creates the community and makes
them its owner. Owners change settings with /config and name moderators with
/staff. One module per concern; `setup()` is the feature's entry point.
"""

from __future__ import annotations

from bot.context import Context
from bot.feature import Feature
from bot.features.community import (
    founding,
    help_command,
    notices,
    settings,
    spaces,
    staff,
    start,
)
from bot.features.community.founding import locale_of, timezone_of

__all__ = ["locale_of", "setup", "timezone_of"]


async def _no_member_data(ctx: Context, member_id: int) -> None:
    """Membership itself is removed by the privacy feature, after every other feature."""


async def _no_merge(ctx: Context, from_id: int, into_id: int) -> None:
    """Members, accounts and tags are merged by the core (`bot.members.merge_members`)."""


def setup() -> Feature:
    """The entry point: communities, spaces, settings, staff and help."""
    return Feature(
        "community", delete_member_data=_no_member_data, merge_member_data=_no_merge
    ).include(
        founding.router,
        help_command.router,
        settings.router,
        staff.router,
        spaces.router,
        start.router,
        notices.router,
    )
