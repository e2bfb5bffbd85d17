"""Communities and their spaces: /setup, /config, /staff and /help.

A space (server, group, room) the bot is added to is unclaimed until an
administrator of that space runs /setup, which creates the community and makes
them its owner. Owners change settings with /config and name moderators with
/staff.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.core import get_global

from bot import channels, pending
from bot.actions import Reply
from bot.channels import is_channel_setting
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
from bot.i18n import LOCALES, N_, Nn_, duration, moment, ngettext, number, translate
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
        platform_admin=True,
    )
)
router.command(
    CommandSpec(
        "help",
        N_("List the commands you can use, or explain one"),
        options=(
            OptionSpec(
                "command", N_("A command, to see what it does and takes"), "text", required=False
            ),
        ),
        needs_community=False,
    )
)
router.command(
    CommandSpec(
        "config",
        N_("Show or change this community's settings"),
        permission=Permission.OWNER,
        subcommands=(
            CommandSpec(
                "show",
                N_("Show every setting, or one in full"),
                options=(OptionSpec("key", N_("The setting's name"), required=False),),
                permission=Permission.OWNER,
            ),
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
    await ctx.uow.codes.withdraw(SPACE_CODE, community.id, ctx.now)  # the newest one works
    code = await ctx.uow.codes.issue(SPACE_CODE, community.id, None, ctx.now, LINK_VALID)
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


def _accepts(ctx: Context, spec: Setting) -> str:
    """What a setting takes, as the owner types it."""
    if is_channel_setting(spec):
        return ctx.gettext(N_("a channel: its #name, a mention or its id"))
    if spec.type == "choice":
        return " | ".join(spec.choices)
    if spec.type == "boolean":
        return "on | off"
    if spec.type == "duration":
        return ctx._(
            N_("a duration from {low} to {high}, such as 30m, 2h or 3d"),
            low=compact_duration(spec.minimum or 0),
            high=compact_duration(spec.maximum or 0),
        ).plain()
    if spec.type == "integer":
        return ctx._(
            N_("a whole number from {low} to {high}"),
            low=spec.minimum or 0,
            high=spec.maximum or 0,
        ).plain()
    return ctx._(N_("text of up to {count} characters"), count=spec.max_length).plain()


def _describe(ctx: Context, key: str) -> Text:
    spec = _specs(ctx).get(key)
    if spec is None:
        return Text.of(key)
    return ctx._(
        N_("{key} accepts {accepts}: {description}"),
        key=key,
        accepts=_accepts(ctx, spec),
        description=ctx.gettext(spec.description),
    )


# /config show groups the settings by the feature that declares them.
GROUPS = {
    "community": N_("The community"),
    "onboarding": N_("Welcoming new members"),
    "engagement": N_("The weekly digest"),
    "moderation": N_("Moderation"),
}


def _field_value(community: CommunityInfo, key: str) -> str:
    value = str(getattr(community, key))
    return f"{value} ({language_name(value)})" if key == "locale" else value


def _field_accepts(ctx: Context, key: str) -> str:
    if key == "locale":
        return ", ".join(f"{code} ({language_name(code)})" for code in LOCALES)
    if key == "timezone":
        return ctx.gettext(N_("a time zone name, such as Europe/Berlin or Asia/Jerusalem"))
    return ctx._(N_("text of up to {count} characters"), count=100).plain()


@router.handles("config show")
async def config_show(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    if args.get("key"):
        ctx.reply(await _one_setting(ctx, community, str(args["key"]).lower()), private=True)
        return
    specs = _specs(ctx)
    named = await _channel_values(ctx, community)
    groups: dict[str, list[tuple[Node, ...]]] = {"community": []}
    for key, description in COMMUNITY_FIELDS.items():
        value = _field_value(community, key)
        groups["community"].append(_setting_row(ctx, key, value, "", description))
    for feature in ctx.services.features:
        for spec in feature.settings:
            if specs.get(spec.key) is not spec:
                continue
            value = ctx.services.directory.setting(community, spec.key)
            marker = "" if spec.key in community.settings else " " + ctx.gettext(N_("(default)"))
            shown = named.get(spec.key) or _show(ctx, spec.key, value, short=True)
            row = _setting_row(ctx, spec.key, shown, marker, spec.description)
            groups.setdefault(feature.name, []).append(row)
    parts: list[Text | str] = [ctx._(N_("Settings of **{community}**:"), community=community.name)]
    for name, rows in groups.items():
        if rows:
            heading = ctx.gettext(GROUPS[name]) if name in GROUPS else name
            parts += [Text.of(Bold((heading,))), Text.of(Items(tuple(rows)))]
    parts.append(
        ctx._(N_("To change one: /config set KEY VALUE. For one in full: /config show KEY."))
    )
    ctx.reply(lines(parts), private=True)


def _setting_row(
    ctx: Context, key: str, value: str, marker: str, description: str
) -> tuple[Node, ...]:
    return (Bold((key,)), f" = {value}{marker} — {ctx.gettext(description)}")


async def _one_setting(ctx: Context, community: CommunityInfo, key: str) -> Text:
    """/config show KEY: its value, default, what it takes and what it means."""
    if key in COMMUNITY_FIELDS:
        return lines(
            [
                Text.of(Bold((key,)), " — ", ctx.gettext(COMMUNITY_FIELDS[key])),
                ctx._(N_("Now: {value}"), value=_field_value(community, key)),
                ctx._(N_("Accepts: {accepts}"), accepts=_field_accepts(ctx, key)),
                ctx._(N_("Change it with /config set {key} VALUE."), key=key),
            ]
        )
    spec = _specs(ctx).get(key)
    if spec is None:
        return _unknown_key(ctx, key)
    value = ctx.services.directory.setting(community, key)
    marker = "" if key in community.settings else " " + ctx.gettext(N_("(default)"))
    shown = (await _channel_values(ctx, community)).get(key) or _show(ctx, key, value)
    return lines(
        [
            Text.of(Bold((key,)), " — ", ctx.gettext(spec.description)),
            ctx._(N_("Now: {value}"), value=shown + marker),
            ctx._(N_("Default: {value}"), value=_show(ctx, key, spec.default)),
            ctx._(N_("Accepts: {accepts}"), accepts=_accepts(ctx, spec)),
            ctx._(
                N_(
                    "Change it with /config set {key} VALUE, and put it back with /config reset {key}."
                ),
                key=key,
            ),
        ]
    )


def language_name(code: str) -> str:
    """A language's name in that language: English, עברית, Deutsch."""
    return str(Locale.parse(code).get_display_name(code) or code)


async def _channel_values(ctx: Context, community: CommunityInfo) -> dict[str, str]:
    """Channel settings by the channel's name, never its id."""
    configured = {
        key: value
        for key, spec in _specs(ctx).items()
        if is_channel_setting(spec) and (value := ctx.services.directory.setting(community, key))
    }
    names = await channels.channel_names(ctx.services, community, configured.values())
    return {
        key: names.get(value) or ctx.gettext(channels.NOT_FOUND)
        for key, value in configured.items()
    }


def _quote(raw: str) -> str:
    """What the owner typed, for a reply saying it was refused: not 10,000 characters."""
    return raw if len(raw) <= 40 else raw[:39] + "…"


def compact_duration(seconds: int) -> str:
    """A duration the way /config takes it: 90s, 30m, 2h, 3d, 1w."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _show(ctx: Context, key: str, value: Any, *, short: bool = False) -> str:
    """A setting's value as people read it: durations in words ("3 days"), numbers
    the locale's way, on/off and choices as /config set takes them; `short` cuts
    long texts (the whole list)."""
    if value is None:
        return ctx.gettext(N_("empty"))
    if isinstance(value, bool):
        return "on" if value else "off"
    spec = _specs(ctx).get(key)
    kind = spec.type if spec is not None else "string"
    if kind == "duration" and isinstance(value, int):
        return duration(ctx.locale, timedelta(seconds=value))
    if kind == "integer" and isinstance(value, int):
        return number(ctx.locale, value)
    text = str(value)
    if short and kind == "text":
        text = " ".join(text.split())
        return text if len(text) <= 40 else text[:39] + "…"
    return text


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
    if is_channel_setting(spec):
        await _set_channel(ctx, community, key, value)
        return
    await ctx.set_setting(key, value)
    ctx.reply(
        ctx._(N_("{key} is now {value}."), key=key, value=_show(ctx, key, value)), private=True
    )


async def _set_channel(ctx: Context, community: CommunityInfo, key: str, reference: str) -> None:
    """A channel is stored by the id its space's adapter answers, after checking that
    one of the community's spaces has it (the one the owner is in first)."""
    here = (ctx.event.platform, ctx.event.space_id)
    located = await channels.locate(ctx.services, community, reference, first=here)
    if located is None:
        known, asked = await channels.listing(ctx.services, community, first=here)
        if asked:
            names = ", ".join(dict.fromkeys(c.name for c in known if c.name))
            msgid = channels.NOT_THERE if names else channels.NOTHING_SEEN
            shown = _quote(reference)
            ctx.reply(
                ctx._(msgid, reference=shown, community=community.name, channels=names),
                private=True,
            )
            return
        # No adapter of this community runs here: nothing to check against.
        await ctx.set_setting(key, reference)
        ctx.reply(ctx._(N_("{key} is now {value}."), key=key, value=reference), private=True)
        return
    channel = located.channel
    name = channel.name or ctx.gettext(channels.SOME_CHANNEL)
    await ctx.set_setting(key, channel.id)
    answer = ctx._(N_("{key} is now {value}."), key=key, value=name)
    if not channel.can_post:
        answer = answer + "\n" + ctx._(channels.MAY_NOT_POST, channel=name)
    ctx.reply(answer, private=True)


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
    if key == "locale":
        _language_changed(ctx, raw)
        return
    ctx.reply(ctx._(N_("{key} is now {value}."), key=key, value=raw), private=True)


def _language_changed(ctx: Context, locale: str) -> None:
    """Said in the new language (the community's own changes only after the commit)."""
    text = translate(
        locale,
        N_("From now on I speak {language} here. To change it: /config set locale {choices}."),
        language=language_name(locale),
        choices="|".join(LOCALES),
    )
    ctx.act(
        Reply(platform=ctx.event.platform, to=ctx.event, text=text, private=True, locale=locale)
    )


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
        ctx._(
            N_("{key} is back to its default, {value}."), key=key, value=_show(ctx, key, default)
        ),
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


WHO = {
    Permission.MEMBER: N_("everyone"),
    Permission.MODERATOR: N_("moderators and owners"),
    Permission.OWNER: N_("owners"),
}
# /setup works only in a group or server that is not set up yet, for its administrators.
SETUP_WHO = N_("administrators of a group or server that is not set up yet")


def _may_use(ctx: Context, spec: CommandSpec, level: Permission) -> bool:
    """Whether the caller, here, may use a command (what /help lists)."""
    if spec.name == "setup":
        actor = ctx.event.actor
        return (
            ctx.community is None
            and bool(ctx.event.space_id)
            and actor is not None
            and actor.is_platform_admin
        )
    if ctx.community is None and spec.needs_community:
        return False
    return spec.permission <= level


@router.handles("help")
async def help_(ctx: Context, args: dict[str, Any]) -> None:
    from bot.dispatcher import Dispatcher

    level = Dispatcher.permission(ctx.member, ctx.event)
    commands = {spec.name: spec for f in ctx.services.features for spec in f.commands}
    wanted = str(args.get("command") or "").strip().lstrip("/").lower().split()
    if wanted:
        ctx.reply(_help_for(ctx, commands, wanted, level), private=True)
        return
    usable = [s for s in sorted(commands.values(), key=lambda s: s.name) if _may_use(ctx, s, level)]
    items: list[tuple[Node, ...]] = []
    for spec in usable:
        subs = [sub.name for sub in spec.subcommands if sub.permission <= level]
        head = f"/{spec.name}" + (f" ({', '.join(subs)})" if subs else "")
        items.append((Bold((head,)), " — " + ctx.gettext(spec.description)))
    # The example: a command with subcommands if the caller has one, else any but /help.
    others = [s.name for s in usable if s.name != "help"]
    grouped = [s.name for s in usable if s.subcommands]
    parts: list[Text | str] = [ctx._(N_("What you can do here:")), Text.of(Items(tuple(items)))]
    parts.append(
        ctx._(
            N_("To learn more about a command, send /help and its name, e.g. /help {command}."),
            command=(grouped or others or ["help"])[0],
        )
    )
    ctx.reply(lines(parts), private=True)


def _help_for(
    ctx: Context, commands: dict[str, CommandSpec], words: list[str], level: Permission
) -> Text:
    """/help COMMAND [SUBCOMMAND…]: what it does, who may use it, its subcommands and
    options (those the caller may use)."""
    spec = commands.get(words[0])
    if spec is None:
        return ctx._(
            N_("There is no command /{name}. Send /help to see what you can use."), name=words[0]
        )
    path = spec.name
    for word in words[1:]:
        sub = spec.subcommand(word)
        if sub is None:
            break
        spec, path = sub, f"{path} {sub.name}"
    head = path.rsplit(" ", 1)[0] + " " if " " in path else ""
    who = SETUP_WHO if spec.name == "setup" else WHO[spec.permission]
    parts: list[Text | str] = [
        Text.of(Bold((f"/{head}{spec.usage(prefix='')}",)), " — ", ctx.gettext(spec.description)),
        ctx._(N_("Who may use it: {who}."), who=ctx.gettext(who)),
    ]
    allowed = spec.name == "setup" or spec.permission <= level
    if allowed and spec.options:
        parts.append(_options_help(ctx, spec))
    if allowed and spec.subcommands:
        rows = [_sub_help(ctx, path, sub) for sub in spec.subcommands if sub.permission <= level]
        parts.append(Text.of(Items(tuple(rows))))
    return lines(parts)


def _sub_help(ctx: Context, path: str, sub: CommandSpec) -> tuple[Node, ...]:
    if sub.subcommands:
        names = ", ".join(s.name for s in sub.subcommands)
        usage = f"/{path} {sub.name} ({names})"
        more = ctx._(N_("more: /help {path}"), path=f"{path} {sub.name}")
        return (Bold((usage,)), " — ", ctx.gettext(sub.description), "; ", *more.nodes)
    row: list[Node] = [Bold((f"/{path} {sub.usage(prefix='')}",)), " — "]
    row.append(ctx.gettext(sub.description))
    if sub.options:
        row += ["\n", *_options_help(ctx, sub).nodes]
    return tuple(row)


OPTION_KINDS = {
    "integer": N_("a whole number"),
    "duration": N_("a duration, such as 30m, 2h or 3d"),
    "boolean": N_("on or off"),
}


def _options_help(ctx: Context, spec: CommandSpec) -> Text:
    rows: list[str] = []
    for opt in spec.options:
        name = opt.name.upper() if opt.type != "choice" else "|".join(opt.choices)
        notes = [ctx.gettext(OPTION_KINDS[opt.type])] if opt.type in OPTION_KINDS else []
        if not opt.required:
            notes.append(ctx.gettext(N_("optional")))
        extra = f" ({'; '.join(notes)})" if notes else ""
        rows.append(f"    {name}: {ctx.gettext(opt.description)}{extra}")
    return Text.of("\n".join(rows))


def setup() -> Feature:
    """The entry point: communities, spaces, settings, staff and help."""
    return Feature(
        "community", delete_member_data=_no_member_data, merge_member_data=_no_merge
    ).include(router)
