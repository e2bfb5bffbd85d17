"""Founding a community: /setup claims a space (or joins it to a community with a space
code), with the language and time zone it derives; spaces the bot is added to,
removed from or moved with."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.core import get_global

from bot.commands import CommandSpec, OptionSpec
from bot.context import Context
from bot.directory import CommunityInfo, MemberRef
from bot.events import SpaceAdded, SpaceMigrated, SpaceRemoved
from bot.feature import Router
from bot.features.community.settings import language_name
from bot.i18n import LOCALES, N_
from bot.markup import lines

router = Router()

router.command(
    CommandSpec(
        "setup",
        N_("Set up this group or server as a community"),
        options=(OptionSpec("name", N_("The community's name"), "text", required=False),),
        needs_community=False,
        platform_admin=True,
    )
)


@router.on(SpaceAdded)
async def space_added(ctx: Context, event: SpaceAdded) -> None:
    if (event.platform, event.space_id) in ctx.services.directory.spaces:
        return  # known already (adapters announce every space again at start)
    space = await ctx.uow.spaces.ensure(event.platform, event.space_id, event.title, ctx.now)
    community_id = space.community_id
    ctx.after_commit(
        lambda: ctx.services.directory.set_space(event.platform, event.space_id, community_id)
    )


@router.on(SpaceRemoved)
async def space_removed(ctx: Context, event: SpaceRemoved) -> None:
    space = await ctx.uow.spaces.find(event.platform, event.space_id)
    if space is not None:
        space.active = False
    ctx.after_commit(lambda: ctx.services.directory.forget_space(event.platform, event.space_id))


@router.on(SpaceMigrated)
async def space_migrated(ctx: Context, event: SpaceMigrated) -> None:
    space = await ctx.uow.spaces.find(event.platform, event.space_id)
    if space is None:
        return
    space.external_id = event.new_space_id
    community_id = space.community_id
    directory = ctx.services.directory

    def move() -> None:
        directory.forget_space(event.platform, event.space_id)
        directory.set_space(event.platform, event.new_space_id, community_id)

    ctx.after_commit(move)


@router.handles("setup")
async def setup_community(ctx: Context, args: dict[str, Any]) -> None:
    event, directory = ctx.event, ctx.services.directory
    if ctx.community is not None:
        ctx.reply(
            ctx._(N_("This space already belongs to {community}."), community=ctx.community.name),
            private=True,
        )
        return
    if not event.space_id:
        ctx.reply(ctx._(N_("Run /setup in the group or server you want to set up.")), private=True)
        return
    actor = event.actor
    if actor is None or not actor.is_platform_admin:
        ctx.reply(
            ctx._(N_("Only an administrator of this group or server can run /setup.")), private=True
        )
        return
    given = str(args.get("name") or "").strip()
    # The title comes from the platform (SpaceAdded); /setup never renames the space.
    space = await ctx.uow.spaces.find(event.platform, event.space_id)
    if space is None:
        space = await ctx.uow.spaces.ensure(event.platform, event.space_id, event.space_id, ctx.now)
    linked = await _community_of_code(ctx, given) if LINK_CODE.fullmatch(given) else None
    if linked is not None:
        await _join_space(ctx, linked, space)
        return
    config = ctx.services.config.bot
    name = (given or space.title or "Community")[:100]
    locale = locale_of(actor.language, config.locale)
    timezone = timezone_of(actor.language, ctx.now)
    row = await ctx.uow.communities.create(
        name, timezone or config.timezone, locale or config.locale, ctx.now
    )
    space.community_id = row.id
    info = CommunityInfo(row.id, row.name, row.timezone, row.locale)
    ctx.after_commit(lambda: directory.add_community(info))
    await _claim(ctx, info, space, role="owner")  # from here on, ctx speaks its language
    ctx.reply(
        lines(
            [
                ctx._(N_("**{community}** is set up, and you are its owner."), community=name),
                ctx._(
                    N_(
                        "Language: {language} ({source}). To change it: /config set locale {choices}"
                    ),
                    language=language_name(info.locale),
                    source=ctx.gettext(FROM_APP if locale else DEFAULT),
                    choices="|".join(LOCALES),
                ),
                ctx._(
                    N_(
                        "Time zone: {timezone} ({source}). To change it: /config set timezone NAME, such as Europe/Berlin"
                    ),
                    timezone=info.timezone,
                    source=ctx.gettext(FROM_APP if timezone else DEFAULT),
                ),
                ctx._(N_("Send /help to see what you can do, and /config show for the settings.")),
            ]
        )
    )


FROM_APP = N_("from the language of your app")
DEFAULT = N_("this bot's default")


def locale_of(language: str | None, default: str) -> str | None:
    """The community's language from the platform language of the person running
    /setup, if it is one the bot speaks. English says nothing when the bot's default
    is another language: it is what platforms fall back to (Discord has no Hebrew)."""
    parsed = _language_tag(language)
    if parsed is None or parsed.language not in LOCALES:
        return None
    if parsed.language == "en" and default != "en":
        return None
    return str(parsed.language)


def timezone_of(language: str | None, now: datetime) -> str | None:
    """A time zone from a platform language, where its country (the one it names, as
    in en-GB, else the language's usual one: he is Israel, de Germany) keeps one time
    all year; None where it does not (English: the United States)."""
    parsed = _language_tag(language)
    if parsed is None:
        return None
    territory = parsed.territory
    if territory is None:
        likely = get_global("likely_subtags").get(parsed.language)
        territory = Locale.parse(likely).territory if likely else None
    zones = [z for z in get_global("territory_zones").get(territory or "", ()) if _known(z)]
    if not zones:
        return None
    moments = [datetime(now.year, month, 15, 12, tzinfo=UTC) for month in range(1, 13)]
    offsets = {tuple(m.astimezone(ZoneInfo(z)).utcoffset() for m in moments) for z in zones}
    return str(zones[0]) if len(offsets) == 1 else None


def _language_tag(language: str | None) -> Locale | None:
    if not language:
        return None
    try:
        return Locale.parse(language.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None


def _known(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


async def _claim(ctx: Context, info: CommunityInfo, space: Any, *, role: str) -> None:
    """Give the space to the community and the admin who ran /setup a role in it."""
    event, directory, actor = ctx.event, ctx.services.directory, ctx.event.actor
    assert actor is not None
    space.community_id = info.id
    member = await ctx.uow.members.find(info.id, event.platform, actor.user_id)
    if member is None:
        member = await ctx.uow.members.add(
            info.id,
            event.platform,
            actor.user_id,
            actor.display_name,
            ctx.now,
            role=role,
            space_external_id=event.space_id,
        )
    elif member.role == "member":
        await ctx.uow.members.set_role(member.id, role)
    ref = MemberRef(member.id, info.id, event.platform, actor.user_id, member.display_name, role)

    def publish() -> None:
        directory.set_space(event.platform, event.space_id, info.id)
        directory.add_member(ref)
        directory.set_role(ref.id, role)

    ctx.after_commit(publish)
    ctx.community = info


# --- linking another space --------------------------------------------------------------

# One-time codes (storage/codes.py) of this kind: another server or group joins.
SPACE_CODE = "space"
LINK_CODE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}")
LINK_VALID = timedelta(hours=1)


async def _community_of_code(ctx: Context, code: str) -> CommunityInfo | None:
    found = await ctx.uow.codes.find(SPACE_CODE, code)
    if found is None or not await ctx.uow.codes.claim(SPACE_CODE, code, ctx.now):
        return None  # unknown, used or expired: a code works once
    return ctx.services.directory.communities.get(found.community_id)


async def _join_space(ctx: Context, info: CommunityInfo, space: Any) -> None:
    await _claim(ctx, info, space, role="moderator")
    ctx.reply(ctx._(N_("This space now belongs to **{community}**."), community=info.name))
