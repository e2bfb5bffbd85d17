"""Communities and their spaces: /setup, /config, /staff and /help.

A space (server, group, room) the bot is added to is unclaimed until an
administrator of that space runs /setup, which creates the community and makes
them its owner. Owners change settings with /config and name moderators with
/staff.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import pending
from bot.commands import CommandSpec, OptionSpec, Permission
from bot.context import Context
from bot.directory import CommunityInfo, MemberRef
from bot.events import (
    SettingChanged,
    SettingsRejected,
    SpaceAdded,
    SpaceMigrated,
    SpaceRemoved,
    StorageRecovered,
)
from bot.feature import Feature, Router, Setting, channel_reference, visible
from bot.i18n import LOCALES, N_, Nn_, moment, ngettext, number, translate
from bot.markup import Bold, Items, Node, Text, lines


async def _no_member_data(ctx: Context, member_id: int) -> None:
    """Membership itself is removed by the privacy feature, after every other feature."""


async def _no_merge(ctx: Context, from_id: int, into_id: int) -> None:
    """Members, accounts and tags are merged by the core (`bot.members.merge_members`)."""


router = Router()

router.setting(
    Setting(
        "community.channel",
        None,
        N_("The channel for welcomes and notices (empty: the main channel)"),
        normalize=channel_reference,
    )
)

# Stored on the community row itself rather than as settings.
COMMUNITY_FIELDS = {
    "name": N_("The community's name"),
    "timezone": N_("Time zone for schedules, e.g. Europe/Berlin"),
    "locale": N_("Language: en, he or de"),
}

router.command(
    CommandSpec(
        "setup",
        N_("Set up this group or server as a community"),
        options=(OptionSpec("name", N_("The community's name"), "text", required=False),),
        needs_community=False,
    )
)
router.command(
    CommandSpec(
        "help",
        N_("List the commands you can use"),
        needs_community=False,
    )
)
router.command(
    CommandSpec(
        "config",
        N_("Show or change this community's settings"),
        permission=Permission.OWNER,
        subcommands=(
            CommandSpec("show", N_("Show every setting"), permission=Permission.OWNER),
            CommandSpec(
                "set",
                N_("Change a setting"),
                options=(
                    OptionSpec("key", N_("The setting's name")),
                    OptionSpec("value", N_("The new value"), "text"),
                ),
                permission=Permission.OWNER,
            ),
            CommandSpec(
                "reset",
                N_("Put a setting back to its default"),
                options=(OptionSpec("key", N_("The setting's name")),),
                permission=Permission.OWNER,
            ),
        ),
    )
)
router.command(
    CommandSpec(
        "staff",
        N_("Name owners and moderators"),
        permission=Permission.OWNER,
        subcommands=(
            CommandSpec("list", N_("List owners and moderators"), permission=Permission.OWNER),
            CommandSpec(
                "set",
                N_("Give a member a role"),
                options=(
                    OptionSpec(
                        "role",
                        N_("owner, moderator or member"),
                        "choice",
                        choices=("owner", "moderator", "member"),
                    ),
                    OptionSpec("member", N_("The member's name"), "text"),
                ),
                permission=Permission.OWNER,
            ),
        ),
    )
)


# --- spaces ---------------------------------------------------------------------------


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
    row = await ctx.uow.communities.create(name, config.timezone, config.locale, ctx.now)
    space.community_id = row.id
    info = CommunityInfo(row.id, row.name, row.timezone, row.locale)
    ctx.after_commit(lambda: directory.add_community(info))
    await _claim(ctx, info, space, role="owner")
    ctx.reply(
        ctx._(
            N_(
                "**{community}** is set up, and you are its owner. Send /help to see what you can do, and /config show for the settings."
            ),
            community=name,
        )
    )


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

LINK_KEY = "community.link_code"
LINK_CODE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}")
LINK_VALID = timedelta(hours=1)


async def _community_of_code(ctx: Context, code: str) -> CommunityInfo | None:
    for community_id, value in (await ctx.uow.settings.with_key(LINK_KEY)).items():
        if (
            isinstance(value, dict)
            and value.get("code") == code
            and value.get("expires", "") > ctx.now.isoformat()
        ):
            return ctx.services.directory.communities.get(community_id)
    return None


async def _join_space(ctx: Context, info: CommunityInfo, space: Any) -> None:
    await ctx.set_setting(LINK_KEY, None, community=info)  # a code works once
    await _claim(ctx, info, space, role="moderator")
    ctx.reply(ctx._(N_("This space now belongs to **{community}**."), community=info.name))


router.command(
    CommandSpec(
        "spaces",
        N_("The servers and groups of this community"),
        permission=Permission.OWNER,
        subcommands=(
            CommandSpec(
                "list", N_("List this community's servers and groups"), permission=Permission.OWNER
            ),
            CommandSpec(
                "link",
                N_("Get a code that adds another server or group"),
                permission=Permission.OWNER,
            ),
        ),
    )
)


@router.handles("spaces list")
async def spaces_list(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.community is not None
    spaces = await ctx.uow.spaces.of_community(ctx.community.id)
    items = Items(tuple((f"{s.platform}: {s.title}",) for s in spaces))
    ctx.reply(
        lines(
            [
                ctx._(N_("Servers and groups of **{community}**:"), community=ctx.community.name),
                Text.of(items),
            ]
        ),
        private=True,
    )


@router.handles("spaces link")
async def spaces_link(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(8))
    code = f"{raw[:4]}-{raw[4:]}"
    value = {"code": code, "expires": (ctx.now + LINK_VALID).isoformat()}
    await ctx.set_setting(LINK_KEY, value)
    ctx.reply(
        ctx._(
            N_(
                "Add me to the other server or group, then have one of its administrators send there: /setup {code} (valid for one hour, once). They become a moderator of {community}."
            ),
            code=code,
            community=community.name,
        ),
        private=True,
    )


# --- /start: a member opens a private chat with the bot ---------------------------------

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


# --- settings -------------------------------------------------------------------------


def _specs(ctx: Context) -> dict[str, Setting]:
    return ctx.services.directory.setting_specs


def _describe(ctx: Context, key: str) -> Text:
    spec = _specs(ctx).get(key)
    if spec is None:
        return Text.of(key)
    if spec.type == "choice":
        accepts = " | ".join(spec.choices)
    elif spec.type == "boolean":
        accepts = "on | off"
    elif spec.type == "duration":
        accepts = ctx._(
            N_("a duration from {low} to {high}, such as 30m, 2h or 3d"),
            low=compact_duration(spec.minimum or 0),
            high=compact_duration(spec.maximum or 0),
        ).plain()
    elif spec.type == "integer":
        accepts = ctx._(
            N_("a whole number from {low} to {high}"),
            low=spec.minimum or 0,
            high=spec.maximum or 0,
        ).plain()
    else:
        accepts = ctx._(N_("text of up to {count} characters"), count=spec.max_length).plain()
    return ctx._(
        N_("{key} accepts {accepts}: {description}"),
        key=key,
        accepts=accepts,
        description=ctx.gettext(spec.description),
    )


@router.handles("config show")
async def config_show(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    rows: list[tuple[Node, ...]] = [
        (Bold(("name",)), f" = {community.name}"),
        (Bold(("timezone",)), f" = {community.timezone}"),
        (Bold(("locale",)), f" = {community.locale}"),
    ]
    for key in sorted(_specs(ctx)):
        value = ctx.services.directory.setting(community, key)
        marker = "" if key in community.settings else " " + ctx.gettext(N_("(default)"))
        rows.append((Bold((key,)), f" = {_show(value)}{marker}"))
    items = Items(tuple(rows))
    ctx.reply(
        lines(
            [ctx._(N_("Settings of **{community}**:"), community=community.name), Text.of(items)]
        ),
        private=True,
    )


def _quote(raw: str) -> str:
    """What the owner typed, for a reply saying it was refused: not 10,000 characters."""
    return raw if len(raw) <= 40 else raw[:39] + "…"


def compact_duration(seconds: int) -> str:
    """A duration the way /config takes it: 90s, 30m, 2h, 3d, 1w."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


@router.handles("config set")
async def config_set(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    key, raw = str(args["key"]).lower(), str(args["value"]).strip()
    if key in COMMUNITY_FIELDS:
        await _set_field(ctx, community, key, raw)
        return
    spec = _specs(ctx).get(key)
    if spec is None:
        ctx.reply(_unknown_key(ctx, key), private=True)
        return
    try:
        value = spec.parse(raw)
    except ValueError:
        ctx.reply(
            ctx._(N_("{value} is not valid for {key}."), value=_quote(raw), key=key)
            + "\n"
            + _describe(ctx, key),
            private=True,
        )
        return
    await ctx.set_setting(key, value)
    ctx.reply(ctx._(N_("{key} is now {value}."), key=key, value=_show(value)), private=True)


async def _set_field(ctx: Context, community: CommunityInfo, key: str, raw: str) -> None:
    if key == "timezone":
        try:
            if len(raw) > 64:  # the longest IANA name is 32 characters
                raise ValueError(raw)
            ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            ctx.reply(
                ctx._(
                    N_(
                        "{value} is not a time zone. Use a name such as Europe/Berlin or Asia/Jerusalem."
                    ),
                    value=_quote(raw),
                ),
                private=True,
            )
            return
    elif key == "locale":
        raw = raw.lower()
        if raw not in LOCALES:
            ctx.reply(
                ctx._(
                    N_("{value} is not a language I speak. Use one of: {choices}."),
                    value=_quote(raw),
                    choices=", ".join(LOCALES),
                ),
                private=True,
            )
            return
    elif key == "name":
        raw = visible(raw)
        if not raw or len(raw) > 100:
            ctx.reply(ctx._(N_("A name needs 1 to 100 characters.")), private=True)
            return
    directory = ctx.services.directory
    ctx.after_commit(lambda: directory.update_community(community, **{key: raw}))
    previous = getattr(community, key)
    await ctx.uow.communities.update(community.id, **{key: raw})
    ctx.publish(
        SettingChanged(community_id=community.id, key=key, value=raw, previous=previous, at=ctx.now)
    )
    ctx.reply(ctx._(N_("{key} is now {value}."), key=key, value=raw), private=True)


def _unknown_key(ctx: Context, key: str) -> Text:
    known = ", ".join([*COMMUNITY_FIELDS, *sorted(_specs(ctx))])
    return ctx._(N_("There is no setting {key}. Settings: {known}."), key=key, known=known)


# What an outage could not record, by kind of event, as owners read it.
LOST_KINDS: dict[str, tuple[str, str]] = {
    "MessagePosted": Nn_("{n} message", "{n} messages"),
    "ReactionAdded": Nn_("{n} reaction", "{n} reactions"),
    "CommandInvoked": Nn_("{n} command", "{n} commands"),
    "ButtonPressed": Nn_("{n} button press", "{n} button presses"),
    "MemberJoined": Nn_("{n} join", "{n} joins"),
    "MemberLeft": Nn_("{n} departure", "{n} departures"),
    "JobFired": Nn_("{n} scheduled task", "{n} scheduled tasks"),
}
OTHER_KIND = Nn_("{n} other event", "{n} other events")


@router.on(StorageRecovered)
async def storage_recovered(ctx: Context, event: StorageRecovered) -> None:
    """After a database outage the owners hear once what happened and what was lost."""
    community = ctx.community
    if community is None:
        return

    def notice(locale: str) -> Text:
        since = moment(locale, event.since, community.timezone)
        until = moment(locale, event.at, community.timezone)
        if not event.lost:
            return translate(
                locale,
                N_(
                    "Kehila could not reach its database from {since} to {until}. It kept trying, and everything that happened meanwhile was recorded."
                ),
                since=since,
                until=until,
            )
        counts: dict[tuple[str, str], int] = {}
        for kind, n in event.lost:
            forms = LOST_KINDS.get(kind, OTHER_KIND)
            counts[forms] = counts.get(forms, 0) + n
        lost = ", ".join(
            ngettext(locale, one, many, n).replace("{n}", number(locale, n))
            for (one, many), n in counts.items()
        )
        return translate(
            locale,
            N_(
                "Kehila could not reach its database from {since} to {until}. It kept trying, but could not record: {lost}. Members who used a command then were asked to try again."
            ),
            since=since,
            until=until,
            lost=lost,
        )

    ctx.tell_owners(notice)


@router.on(SettingsRejected)
async def settings_rejected(ctx: Context, event: SettingsRejected) -> None:
    """Stored values refused at start: the owners hear which, once, and how to fix them."""
    community = ctx.community
    if community is None:
        return
    keys = ", ".join(event.keys)
    ctx.tell_owners(
        lambda locale: translate(
            locale,
            N_(
                "Some settings of {community} were not valid, so their defaults are in use now: {keys}. See /config show, and set them again with /config set."
            ),
            community=community.name,
            keys=keys,
        )
    )


@router.handles("config reset")
async def config_reset(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    key = str(args["key"]).lower()
    if key not in _specs(ctx):
        ctx.reply(_unknown_key(ctx, key), private=True)
        return
    await ctx.set_setting(key, None)
    default = _specs(ctx)[key].default
    ctx.reply(
        ctx._(N_("{key} is back to its default, {value}."), key=key, value=_show(default)),
        private=True,
    )


# --- staff ----------------------------------------------------------------------------


@router.handles("staff list")
async def staff_list(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.community is not None
    staff = await ctx.uow.members.with_role(ctx.community.id, ("owner", "moderator"))
    items = Items(tuple((f"{m.display_name} — {ctx.gettext(ROLE_NAMES[m.role])}",) for m in staff))
    ctx.reply(lines([ctx._(N_("Owners and moderators:")), Text.of(items)]), private=True)


ROLE_NAMES = {"owner": N_("owner"), "moderator": N_("moderator"), "member": N_("member")}


@router.handles("staff set")
async def staff_set(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.community is not None
    name = str(args["member"]).lstrip("@").strip()
    matches = await ctx.uow.members.by_name(ctx.community.id, name)
    if len(matches) != 1:
        msg = (
            N_("No member is called {name}.")
            if not matches
            else N_(
                "Several members are called {name}; ask them to change their display name first."
            )
        )
        ctx.reply(ctx._(msg, name=name), private=True)
        return
    member, role = matches[0], str(args["role"])
    if member.role == "owner" and role != "owner":
        owners = await ctx.uow.members.with_role(ctx.community.id, ("owner",))
        if len(owners) == 1:
            ctx.reply(
                ctx._(
                    N_("{name} is the only owner; name another owner first."),
                    name=member.display_name,
                ),
                private=True,
            )
            return
    await ctx.uow.members.set_role(member.id, role)
    ctx.after_commit(lambda: ctx.services.directory.set_role(member.id, role))
    ctx.reply(
        ctx._(
            N_("{name} is now {role}."),
            name=member.display_name,
            role=ctx.gettext(ROLE_NAMES[role]),
        ),
        private=True,
    )


# --- help -----------------------------------------------------------------------------


@router.handles("help")
async def help_(ctx: Context, args: dict[str, Any]) -> None:
    from bot.dispatcher import Dispatcher

    level = Dispatcher.permission(ctx.member, ctx.event)
    commands: list[CommandSpec] = [spec for f in ctx.services.features for spec in f.commands]
    items: list[tuple[Node, ...]] = []
    for spec in sorted(commands, key=lambda s: s.name):
        if spec.permission > level or (ctx.community is None and spec.needs_community):
            continue
        items.append((Bold((f"/{spec.name}",)), " — " + ctx.gettext(spec.description)))
        for sub in spec.subcommands:
            if sub.permission <= level:
                items.append(
                    (
                        "   ",
                        f"/{spec.name} {sub.usage(prefix='')}",
                        " — " + ctx.gettext(sub.description),
                    )
                )
    ctx.reply(
        lines([ctx._(N_("What you can do here:")), Text.of(Items(tuple(items)))]), private=True
    )


def setup() -> Feature:
    """The entry point: communities, spaces, settings, staff and help."""
    return Feature(
        "community", delete_member_data=_no_member_data, merge_member_data=_no_merge
    ).include(router)
