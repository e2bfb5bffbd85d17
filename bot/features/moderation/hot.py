"""The message detectors on the hot path: flood, watched words, questions.

`observe` runs on every message of every community (a memory-only observer: no
context, no transaction, no I/O). It costs a few dictionary lookups when a community
has no detector on. What it finds it notes in `Watch.flags`; the handler `flagged`
(which runs only for a member with a note, `only_if`) opens the incidents, in a unit
of work of its own. Questions are noted in memory and swept by a job (questions.py).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.events import MemberJoined, MessagePosted
from bot.feature import Router
from bot.features.moderation.alerts import Found, open_incident
from bot.features.moderation.matcher import Matcher
from bot.features.moderation.settings import (
    FLOOD,
    FLOOD_CHANNELS,
    FLOOD_MENTIONS,
    FLOOD_PER_MINUTE,
    NEW_MEMBER,
    QUESTIONS,
    WATCH,
)
from bot.questions import is_question

if TYPE_CHECKING:
    from bot.context import Context
    from bot.directory import CommunityInfo, MemberRef
    from bot.services import Services

router = Router()
MINUTE = timedelta(minutes=1)
SAME_TEXT_WINDOW = timedelta(minutes=10)
# A flood by one member within this long of its alert is the same incident.
SAME_INCIDENT = timedelta(minutes=10)
# Short texts ("ok", "thanks") are not counted as the same text in several channels.
SAME_TEXT_MIN = 12
# Kept in memory at most, per kind (oldest dropped first).
MAX_TRACKED = 50_000
# The community's internal setting counting changes to its watched words (watchlist.py).
VERSION_KEY = "moderation.watch_version"
# In `Watch.recent` while the incident is being opened.
OPENING = 0
EXCERPT = 200
MENTION = re.compile(r"<@!?\d+>|(?<!\w)@\w{3,}")
LINK = re.compile(r"https?://|www\.|t\.me/|discord\.gg/|discord(?:app)?\.com/invite", re.I)


@dataclass(slots=True)
class Flag:
    kind: str  # "flood" or "watch"
    rule: str  # flood: "rate", "channels", "mentions", "link"; watch: the entry
    count: int
    event: MessagePosted
    word: str = ""  # watch: the word as the message wrote it


# An open question, by (platform, space, message id): (member id, channel id, when
# asked, excerpt). A plain tuple of numbers, strings and a time, which the garbage
# collector stops tracking: thousands of open questions add nothing to its full
# collections (as objects of a class, one each, they brought a full collection into
# a benchmark's timed run: 0.2 s, a tenth of the run).
Question = tuple[int, str, datetime, str]


@dataclass
class Watch:
    """Moderation's memory on the hot path, per process."""

    matchers: dict[int, Matcher] = field(default_factory=dict)
    # Per member: their message times in the last minute.
    # (The time alone while there is one: see `_flood`.)
    rates: dict[int, datetime | deque[datetime]] = field(default_factory=dict)
    # Per (member, hash of a text): the channels they posted it in lately, and when
    # (the text itself is not kept). Per member: many people saying "Good morning
    # everyone!" in their channels is a community, not a flood.
    # (A channel and a time while there is one.)
    texts: dict[tuple[int, int], tuple[str, datetime] | dict[str, datetime]] = field(
        default_factory=dict
    )
    # Per member: when they joined (seen by this process).
    joined: dict[int, datetime] = field(default_factory=dict)
    # What the observer found, per member, for `flagged`.
    flags: dict[int, list[Flag]] = field(default_factory=dict)
    # The incident a member's flood is counted in, and since when, per (member, rule).
    recent: dict[tuple[int, str], tuple[int, datetime]] = field(default_factory=dict)
    # Open questions per community, by (platform, space, message id).
    questions: dict[int, dict[tuple[str, str, str], Question]] = field(default_factory=dict)
    # Communities whose watched-words list changed in another process: reloaded by
    # watchlist.reload.
    stale: set[int] = field(default_factory=set)
    # Communities whose messages arrive without their text (Discord without the
    # Message Content intent): /moderation status says so.
    no_text: set[int] = field(default_factory=set)

    def quiet(self, member_id: int, key: str, at: datetime) -> bool:
        """Whether a flag `key` ("kind:rule") of this member at `at` is part of an
        incident opened lately: checked before a flag is made, so that a flood's later
        messages cost a lookup."""
        recent = self.recent.get((member_id, key))
        return recent is not None and at - recent[1] < SAME_INCIDENT

    def flag(self, member_id: int, flag: Flag) -> None:
        """Note what was found, unless it is part of an incident opened lately (the
        same member, kind and rule within `SAME_INCIDENT`): one alert per incident,
        and a flood's later messages cost nothing more."""
        recent = self.recent.get((member_id, f"{flag.kind}:{flag.rule}"))
        if recent is not None and flag.event.at - recent[1] < SAME_INCIDENT:
            return
        self.flags.setdefault(member_id, []).append(flag)

    def forget(self, member_id: int) -> None:
        for table in (self.rates, self.joined, self.flags):
            table.pop(member_id, None)
        self.recent = {k: v for k, v in self.recent.items() if k[0] != member_id}
        self.texts = {k: v for k, v in self.texts.items() if k[0] != member_id}
        for questions in self.questions.values():
            for key in [k for k, q in questions.items() if q[0] == member_id]:
                del questions[key]

    def merge(self, from_id: int, into_id: int) -> None:
        joined = self.joined.pop(from_id, None)
        if joined is not None and into_id not in self.joined:
            self.joined[into_id] = joined
        for questions in self.questions.values():
            for key, (member_id, channel_id, at, excerpt) in questions.items():
                if member_id == from_id:
                    questions[key] = (into_id, channel_id, at, excerpt)
        self.rates.pop(from_id, None)


@router.observe(MessagePosted)
def observe(
    services: Services, community: CommunityInfo, member: MemberRef, event: MessagePosted
) -> None:
    if event.private:
        return
    text = event.text
    if text is None:
        services.state(Watch).no_text.add(community.id)
    # The three switches, read inline (every message): each is off unless set.
    settings = community.settings
    flood = settings.get(FLOOD, False)
    watch = settings.get(WATCH, False)
    questions = settings.get(QUESTIONS, False)
    if not (flood or watch or questions):
        return
    state: Watch = services.state(Watch)
    directory = services.directory
    if questions:
        _note_question(state, community, member, event)
    if member.role != "member" or text is None:
        return  # staff are not flagged; without text only the rate could count
    if flood:
        _flood(state, directory, community, member, event, text)
    if watch:
        matcher = state.matchers.get(community.id)
        version = community.settings.get(VERSION_KEY, 0)
        if (matcher.version if matcher is not None else 0) != version:
            state.stale.add(community.id)  # another process changed the list
        elif matcher is not None:
            hit = matcher.hit(text)
            if hit is not None:
                state.flag(member.id, Flag("watch", hit.entry, 1, event, hit.word))


def _flood(
    state: Watch,
    directory: Any,
    community: CommunityInfo,
    member: MemberRef,
    event: MessagePosted,
    text: str,
) -> None:
    at = event.at
    member_id = member.id
    settings = community.settings  # directory.setting, inline: read on every message
    # Most members post once in a while: their last time alone (no deque, no dict) until
    # a second message comes within the window. Both limits are at least 2, so one
    # message never trips them.
    rates = state.rates
    last = rates.get(member_id)
    if last is None:
        if len(rates) >= MAX_TRACKED:
            rates.clear()
        rates[member_id] = at
    elif last.__class__ is datetime:
        rates[member_id] = at if last <= at - MINUTE else deque((last, at))
    else:
        times: deque[datetime] = last  # type: ignore[assignment]
        times.append(at)
        limit = int(settings.get(FLOOD_PER_MINUTE.key, FLOOD_PER_MINUTE.default))
        since = at - MINUTE
        while times[0] <= since or len(times) > limit + 1:
            times.popleft()
        if len(times) > limit and not state.quiet(member_id, "flood:rate", at):
            state.flag(member_id, Flag("flood", "rate", len(times), event))
    if len(text) >= SAME_TEXT_MIN:
        texts = state.texts
        key = (member_id, hash(text))
        channel = event.channel_id
        seen = texts.get(key)
        channels_seen: dict[str, datetime] | None = None
        if seen is None:
            if len(texts) >= MAX_TRACKED:
                texts.clear()
            texts[key] = (channel, at)
        elif isinstance(seen, tuple):
            first, when = seen
            if first == channel or when <= at - SAME_TEXT_WINDOW:
                texts[key] = (channel, at)
            else:
                channels_seen = texts[key] = {first: when, channel: at}
        else:
            channels_seen = seen
            channels_seen[channel] = at
        if channels_seen is not None:
            channels = int(settings.get(FLOOD_CHANNELS.key, FLOOD_CHANNELS.default))
            if len(channels_seen) >= channels and not state.quiet(member_id, "flood:channels", at):
                since = at - SAME_TEXT_WINDOW
                fresh = {c: t for c, t in channels_seen.items() if t > since}
                texts[key] = fresh
                if len(fresh) >= channels:
                    state.flag(member_id, Flag("flood", "channels", len(fresh), event))
    if "@" in text:
        mentions = len(MENTION.findall(text))
        if mentions >= int(directory.setting(community, FLOOD_MENTIONS.key)):
            state.flag(member_id, Flag("flood", "mentions", mentions, event))
    joined = state.joined.get(member_id)
    if joined is not None:
        window = int(directory.setting(community, NEW_MEMBER.key))
        if at - joined > timedelta(seconds=window):
            del state.joined[member_id]
        elif LINK.search(text):
            state.flag(member_id, Flag("flood", "link", 1, event))


def _note_question(
    state: Watch, community: CommunityInfo, member: MemberRef, event: MessagePosted
) -> None:
    open_questions = state.questions.get(community.id)
    if event.reply_to_message_id is not None and open_questions:
        asked = open_questions.get((event.platform, event.space_id, event.reply_to_message_id))
        if asked is not None and asked[0] != member.id:
            del open_questions[(event.platform, event.space_id, event.reply_to_message_id)]
    text = event.text
    if text is None or not is_question(text, community.locale):
        return
    if open_questions is None:
        open_questions = state.questions[community.id] = {}
    if len(open_questions) >= MAX_TRACKED:
        return
    open_questions[(event.platform, event.space_id, event.message_id)] = (
        member.id,
        event.channel_id,
        event.at,
        text[:EXCERPT],
    )


@router.observe(MemberJoined)
def joined(
    services: Services, community: CommunityInfo, member: MemberRef, event: MemberJoined
) -> None:
    state: Watch = services.state(Watch)
    if len(state.joined) >= MAX_TRACKED:
        state.joined.clear()
    state.joined[member.id] = event.at


def _has_flags(services: Services, member: MemberRef) -> bool:
    return member.id in services.state(Watch).flags


@router.on(MessagePosted, only_if=_has_flags)
async def flagged(ctx: Context, event: MessagePosted) -> None:
    """Open the incidents the observer found for this member."""
    member = ctx.member
    if member is None:
        return
    state = ctx.state(Watch)
    flags = state.flags.pop(member.id, [])
    opened: list[tuple[tuple[int, str], int, datetime]] = []
    for flag in flags:
        key = (member.id, f"{flag.kind}:{flag.rule}")
        recent = state.recent.get(key)
        if recent is not None and flag.event.at - recent[1] < SAME_INCIDENT:
            continue  # opened meanwhile (another message of it, handled concurrently)
        # Claimed at once: messages of one flood are handled concurrently.
        state.recent[key] = (OPENING, flag.event.at)
        ctx.after_rollback(_unclaim(state, key))
        found = Found(
            kind=flag.kind,
            platform=flag.event.platform,
            space_id=flag.event.space_id,
            member=member,
            user_id=flag.event.actor.user_id if flag.event.actor else None,
            channel_id=flag.event.channel_id,
            message_id=flag.event.message_id,
            excerpt=flag.event.text,
            count=flag.count,
            detail=(
                {"rule": flag.rule}
                if flag.kind == "flood"
                else {"entry": flag.rule, "word": flag.word}
            ),
        )
        if flag.rule == "link":
            found.detail["window"] = int(ctx.setting(NEW_MEMBER.key))
        made = await open_incident(ctx, found)
        if made is not None:
            opened.append((key, made.id, flag.event.at))

    def remember() -> None:
        for key, incident_id, at in opened:
            state.recent[key] = (incident_id, at)
        if len(state.recent) > MAX_TRACKED:
            state.recent.clear()

    ctx.after_commit(remember)


def _unclaim(state: Watch, key: tuple[int, str]) -> Callable[[], None]:
    def undo() -> None:
        state.recent.pop(key, None)

    return undo
