"""Settings: the community's own fields (name, time zone, language) and every
feature's declared settings, shown with /config show, changed with /config set and
/config reset."""

from __future__ import annotations

from datetime import timedelta
from difflib import get_close_matches
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale

from bot import channels
from bot.actions import Reply
from bot.channels import is_channel_setting
from bot.commands import ON_OFF, CommandSpec, OptionSpec, Permission
from bot.context import Context
from bot.directory import CommunityInfo
from bot.events import SettingChanged
from bot.feature import Router, Setting, channel_reference, visible
from bot.i18n import LOCALES, N_, duration, number, translate
from bot.markup import Bold, Items, Node, Text, lines

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


def _specs(ctx: Context) -> dict[str, Setting]:
    return ctx.services.directory.setting_specs


def _accepts(ctx: Context, spec: Setting) -> str:
    """What a setting takes, as the owner types it."""
    if is_channel_setting(spec):
        return ctx.gettext(N_("a channel: its #name, a mention or its id"))
    if spec.accepts:
        return ctx.gettext(spec.accepts)
    if spec.type == "choice":
        return " | ".join(_named(ctx, spec, c) for c in spec.choices)
    if spec.type == "boolean":
        return " | ".join(ctx.gettext(name) for _, name in ON_OFF)
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
    "referrals": N_("Referrals and ambassadors"),
    "events": N_("Events"),
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
    key = str(args.get("key") or "").lower()
    specs = _specs(ctx)
    # `/config show moderation`: the settings named `moderation.…`, as in the overview.
    prefix = f"{key}." if key and any(k.startswith(f"{key}.") for k in specs) else ""
    if key and not prefix:
        ctx.reply(await _one_setting(ctx, community, key), private=True)
        return
    named = await _channel_values(ctx, community)
    groups: dict[str, list[tuple[Node, ...]]] = {"community": []}
    if not prefix:
        for field_key, description in COMMUNITY_FIELDS.items():
            value = _field_value(community, field_key)
            groups["community"].append(_setting_row(ctx, field_key, value, "", description))
    for feature in ctx.services.features:
        for spec in feature.settings:
            if specs.get(spec.key) is not spec or not spec.key.startswith(prefix):
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


def _named(ctx: Context, spec: Setting, choice: Any) -> str:
    """A choice by its name in the reader's language, where it has one."""
    name = dict(spec.names).get(choice)
    return str(choice) if name is None else ctx.gettext(name)


def _show(ctx: Context, key: str, value: Any, *, short: bool = False) -> str:
    """A setting's value as people read it, in words /config set takes back:
    durations in words ("3 days"), numbers the locale's way, on/off and named choices
    in the reader's language ("an", "Donnerstag"), other choices as they are; `short`
    cuts long texts (the whole list)."""
    if value is None:
        return ctx.gettext(N_("empty"))
    if isinstance(value, bool):
        return ctx.gettext(dict(ON_OFF)["on" if value else "off"])
    spec = _specs(ctx).get(key)
    if spec is not None and spec.names:
        return _named(ctx, spec, value)
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
    reply = ctx._(N_("{key} is now {value}."), key=key, value=_show(ctx, key, value))
    if spec.changed:
        reply += "\n" + ctx.gettext(spec.changed)
    ctx.reply(reply, private=True)


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
    """The setting `key` was likely meant to be (a typo), else the settings of its
    feature, else how settings are named: all sixty on one line buried the answer."""
    known = [*COMMUNITY_FIELDS, *sorted(_specs(ctx))]
    groups = sorted({k.split(".")[0] for k in known if "." in k})
    group, dot, name = key.lower().partition(".")
    in_group = [k for k in known if k.startswith(group + ".")] if dot or group in groups else []
    if in_group and dot:
        names = [k.partition(".")[2] for k in in_group]
        close = [f"{group}.{n}" for n in get_close_matches(name, names, n=1, cutoff=0.6)]
    elif in_group:  # a feature's name alone: its settings
        close = []
    else:  # a feature's name mistyped ("modaration"), or a whole one
        close = get_close_matches(group, groups, n=1, cutoff=0.75) if not dot else []
        close = close or get_close_matches(key.lower(), known, n=1, cutoff=0.8)
    if close:
        return ctx._(
            N_("There is no setting {key}. Did you mean {close}? /config show lists them all."),
            key=key,
            close=close[0],
        )
    if in_group:
        return ctx._(
            N_("There is no setting {key}. The settings of {group}: {known}."),
            key=key,
            group=group,
            known=", ".join(in_group),
        )
    return ctx._(
        N_(
            "There is no setting {key}. Besides {fields}, a setting's name starts with its "
            "feature: {groups} (as moderation.flood). /config show lists them all."
        ),
        key=key,
        fields=", ".join(COMMUNITY_FIELDS),
        groups=", ".join(groups),
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
