"""`/invite`: a member's own invite link, made once and reused, with how many people
they brought who stayed and took part.

Telegram: a named link (`createChatInviteLink`, the member's name, at most 32
characters). Discord: a channel invite that never expires; a server holds about
1,000 invites, so links are made only on request and reused, and the owners hear
when the server nears or reaches the limit. Without the right to make invites the
member is told so and the owners hear which right the bot lacks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.actions import ActionResult, CreateInvite
from bot.commands import CommandSpec
from bot.context import Context
from bot.feature import Router
from bot.features.referrals.common import enabled, repo
from bot.features.referrals.joins import JoinMemory
from bot.i18n import N_, translate
from bot.markup import Link, lines

router = Router()

# Telegram names a link with at most 32 characters.
LINK_NAME_MAX = 32
# Discord: about 1,000 invites per server. Owners hear when Kehila's own links reach this.
DISCORD_WARN_AT = 900

router.command(CommandSpec("invite", N_("Your own invite link, and who you brought")))

MISSING_RIGHT = {
    "discord": N_(
        "Members asked for their invite links, but the bot may not create invites in {community}. On Discord, give the bot's role the Create Invite permission."
    ),
    "telegram": N_(
        "Members asked for their invite links, but the bot may not create them in {community}. On Telegram, make the bot an administrator with the right to invite users via link."
    ),
}


@router.handles("invite")
async def invite(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.community is not None and ctx.member is not None
    if not enabled(ctx):
        ctx.reply(ctx._(N_("Invite links are turned off in this community.")), private=True)
        return
    platform = ctx.event.platform
    space = ctx.event.space_id or ctx.home_space(platform)
    if not space:
        ctx.reply(ctx._(N_("This community has no group or server here yet.")), private=True)
        return
    referrals = repo(ctx)
    link = await referrals.personal_link(ctx.community.id, ctx.member.id, platform, space)
    if link is None or link.url is None:
        made = await ctx.perform_now(
            CreateInvite(
                platform=platform,
                space_id=space,
                channel_id=None,
                name=ctx.member.display_name[:LINK_NAME_MAX],
                # Held join requests: the link asks, a moderator lets them in.
                join_request=ctx.setting("referrals.join_requests") == "hold",
            )
        )
        if not made.ok or not made.value or not made.invite_code:
            _refused(ctx, made)
            return
        await referrals.add_invite(
            ctx.community.id,
            ctx.member.id,
            platform,
            space,
            made.invite_code,
            made.value,
            personal=True,
            at=ctx.now,
        )
        ctx.state(JoinMemory).made(ctx, platform, made.invite_code, ctx.member.id)
        url = made.value
        if platform == "discord":
            count = await referrals.personal_links(ctx.community.id, platform)
            if count == DISCORD_WARN_AT:
                name = ctx.community.name
                ctx.tell_owners(
                    lambda locale: translate(
                        locale,
                        N_(
                            "{community} now has {count} personal invite links on Discord, which allows about 1,000 invites per server. Delete unused invites in the server settings before members can no longer get one."
                        ),
                        community=name,
                        count=count,
                    )
                )
    else:
        url = link.url
    qualified = await referrals.qualified_count(ctx.member.id)
    ctx.reply(
        lines(
            [
                ctx._(N_("Your invite link: {link}"), link=Link(url, url)),
                ctx.n_(
                    "{n} person you brought has stayed and taken part.",
                    "{n} people you brought have stayed and taken part.",
                    qualified,
                )
                if qualified
                else ctx._(
                    N_(
                        "Share it: someone who joins through it counts for you once they have stayed and taken part."
                    )
                ),
            ]
        ),
        private=True,
    )


class Told:
    """When the owners last heard why links cannot be made (per process): once a day,
    however many members ask meanwhile."""

    def __init__(self) -> None:
        self.last: dict[tuple[int, str], datetime] = {}

    def due(self, ctx: Context, why: str) -> bool:
        assert ctx.community is not None
        key = (ctx.community.id, why)
        last = self.last.get(key)
        if last is not None and ctx.now - last < timedelta(days=1):
            return False
        self.last[key] = ctx.now
        return True


def _refused(ctx: Context, made: ActionResult) -> None:
    assert ctx.community is not None
    name, platform = ctx.community.name, ctx.event.platform
    tell = ctx.state(Told).due(ctx, made.error or "failed")
    if made.error == "limit_reached":
        ctx.reply(
            ctx._(
                N_(
                    "The server has reached Discord's limit of invites, so no new link can be made now. The owners have been told."
                )
            ),
            private=True,
        )
        if tell:
            ctx.tell_owners(
                lambda locale: translate(
                    locale,
                    N_(
                        "A member of {community} asked for an invite link, but the server has reached Discord's limit of about 1,000 invites. Delete unused invites in the server settings."
                    ),
                    community=name,
                )
            )
        return
    if made.error == "forbidden":
        ctx.reply(
            ctx._(
                N_(
                    "The bot may not create invite links here yet. The owners have been told which right it needs."
                )
            ),
            private=True,
        )
        missing = MISSING_RIGHT.get(platform)
        if missing is not None and tell:
            ctx.tell_owners(lambda locale: translate(locale, missing, community=name))
        return
    ctx.reply(
        ctx._(N_("Your invite link could not be made just now; try again later.")), private=True
    )
