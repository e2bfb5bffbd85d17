"""Owners' watched words: `/watch add|remove|list`, kept in `moderation_watch` and in
memory as one matcher per community (matcher.py), rebuilt when the list changes.

Several processes: each change also counts up the community's internal setting
`moderation.watch_version` (not an owner's setting: undeclared, never shown), which
bot/sync.py brings to every process's index. A process whose matcher is of another
version notices it on the next message (hot.py) and reloads the list (`reload`)."""

from __future__ import annotations

from difflib import get_close_matches
from typing import Any

from bot.commands import CommandSpec, OptionSpec, Permission
from bot.context import Context
from bot.directory import CommunityInfo, MemberRef
from bot.events import MessagePosted
from bot.feature import Router
from bot.features.moderation.hot import VERSION_KEY, Watch
from bot.features.moderation.matcher import Matcher, normal_entry, too_short
from bot.i18n import N_
from bot.markup import Items, Text, lines
from bot.services import Services
from storage.moderation import MAX_WATCH_ENTRIES, WATCH_ENTRY_CHARS, ModerationRepo
from storage.unit_of_work import UnitOfWork

router = Router()
OWNER = Permission.OWNER

router.command(
    CommandSpec(
        "watch",
        N_("Words and phrases the moderators are told about"),
        permission=OWNER,
        subcommands=(
            CommandSpec(
                "add",
                N_("Watch a word or phrase (word* for every word starting so)"),
                options=(OptionSpec("entry", N_("The word or phrase"), "text"),),
                permission=OWNER,
            ),
            CommandSpec(
                "remove",
                N_("Stop watching a word or phrase"),
                options=(OptionSpec("entry", N_("The word or phrase"), "text"),),
                permission=OWNER,
            ),
            CommandSpec("list", N_("The watched words and phrases"), permission=OWNER),
        ),
    )
)


async def load(services: Services) -> None:
    """At start: every community's matcher."""
    state = services.state(Watch)
    async with UnitOfWork(services.db) as uow:
        entries = await uow.repo(ModerationRepo).watch_entries()
    by_community: dict[int, list[str]] = {}
    for community_id, entry in entries:
        by_community.setdefault(community_id, []).append(entry)
    directory = services.directory
    state.matchers = {
        c: Matcher(e, version_of(directory.communities[c]))
        for c, e in by_community.items()
        if c in directory.communities
    }


def version_of(community: CommunityInfo) -> int:
    return int(community.settings.get(VERSION_KEY) or 0)


async def _rebuild(ctx: Context) -> list[str]:
    """After a change to the list: this process's matcher now, the others' soon."""
    community = ctx.community
    assert community is not None
    entries = [e for _, e in await ctx.uow.repo(ModerationRepo).watch_entries(community.id)]
    version = version_of(community) + 1
    await ctx.set_setting(VERSION_KEY, version)
    matcher = Matcher(entries, version)
    state = ctx.state(Watch)
    ctx.after_commit(lambda: state.matchers.__setitem__(community.id, matcher))
    return entries


def _stale(services: Services, member: MemberRef) -> bool:
    return member.community_id in services.state(Watch).stale


@router.on(MessagePosted, only_if=_stale)
async def reload(ctx: Context, event: MessagePosted) -> None:
    """Another process changed the list: load it (the message that noticed it, and
    any that came meanwhile, were not matched)."""
    community = ctx.community
    if community is None:
        return
    entries = [e for _, e in await ctx.uow.repo(ModerationRepo).watch_entries(community.id)]
    matcher = Matcher(entries, version_of(community))
    state = ctx.state(Watch)

    def swap() -> None:
        state.matchers[community.id] = matcher
        state.stale.discard(community.id)

    ctx.after_commit(swap)


@router.handles("watch add")
async def watch_add(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    entry = normal_entry(str(args["entry"]))
    if not entry.rstrip("*").strip() or len(entry) > WATCH_ENTRY_CHARS:
        ctx.reply(ctx._("A watched entry has 1 to 100 characters."), private=True)
        return
    if too_short(entry):
        ctx.reply(
            ctx._(
                "“{entry}” is too short to watch: an entry needs at least three letters (two in Hebrew), or it matches too many messages.",
                entry=entry,
            ),
            private=True,
        )
        return
    repo = ctx.uow.repo(ModerationRepo)
    if await repo.watch_count(community.id) >= MAX_WATCH_ENTRIES:
        ctx.reply(
            ctx.n_(
                "The list already has {n} entry, the most it takes. Remove one first.",
                "The list already has {n} entries, the most it takes. Remove one first.",
                MAX_WATCH_ENTRIES,
            ),
            private=True,
        )
        return
    had = await repo.add_watch(community.id, entry, ctx.now)
    if had is None:
        entries = await _rebuild(ctx)
        said = ctx._("Now watching “{entry}”.", entry=entry)
    else:  # nothing changed: no rebuild here, nor in the other processes
        entries = [e for _, e in await repo.watch_entries(community.id)]
        said = ctx._("“{entry}” was already watched.", entry=had)
    off = (
        None
        if ctx.setting("moderation.watch")
        else ctx._("Watched words are off: /config set moderation.watch on turns them on.")
    )
    count = ctx.n_("{n} entry in the list.", "{n} entries in the list.", len(entries))
    ctx.reply(lines([said, count] + ([off] if off else [])), private=True)


@router.handles("watch remove")
async def watch_remove(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    entry = normal_entry(str(args["entry"]))
    repo = ctx.uow.repo(ModerationRepo)
    removed = await repo.remove_watch(community.id, entry)
    if removed is not None:
        entries = await _rebuild(ctx)
        said = ctx._("No longer watching “{entry}”.", entry=removed)
    else:  # nothing changed: no rebuild here, nor in the other processes
        entries = [e for _, e in await repo.watch_entries(community.id)]
        folded = {e.casefold(): e for e in entries}
        meant = get_close_matches(entry.casefold(), list(folded), n=1)
        said = (
            ctx._(
                "“{entry}” is not in the list. Did you mean “{meant}”?",
                entry=entry,
                meant=folded[meant[0]],
            )
            if meant
            else ctx._("“{entry}” is not in the list.", entry=entry)
        )
    count = ctx.n_("{n} entry in the list.", "{n} entries in the list.", len(entries))
    ctx.reply(lines([said, count]), private=True)


@router.handles("watch list")
async def watch_list(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    entries = [e for _, e in await ctx.uow.repo(ModerationRepo).watch_entries(community.id)]
    if not entries:
        ctx.reply(ctx._("No watched words yet. Add one with /watch add."), private=True)
        return
    head = ctx.n_("{n} watched entry:", "{n} watched entries:", len(entries))
    ctx.reply(
        Text.of(head, "\n", Items(tuple((e,) for e in entries))), private=True, confidential=True
    )
