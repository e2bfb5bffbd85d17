"""Engagement: counting who takes part.

The hot path. Messages, replies (who replied to whom), reactions, joins and leaves
are folded into in-memory counters per (community, local day, member) and written
with one batched additive upsert per flush: every `engagement.flush_interval_s`
seconds, every `engagement.flush_max_events` events, before /stats and on shutdown.
Additive upserts make flushes from several processes safe. No message text is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.context import Context
from bot.directory import CommunityInfo, MemberRef
from bot.events import MemberJoined, MemberLeft, MessagePosted, ReactionAdded
from bot.feature import Router
from bot.features.engagement import spill
from bot.features.engagement.active_weeks import NotedWeeks
from bot.features.engagement.buffer import (
    ACTIVITY_COLUMNS,
    JOINS,
    LEAVES,
    MESSAGES,
    REACTIONS,
    REACTIONS_RECEIVED,
    REPLIES,
    REPLIES_RECEIVED,
    Buffer,
    merge_buffer,
    weekly_rows,
)
from bot.features.engagement.unanswered import QuestionBuffer, QuestionTracker, track
from bot.services import Services
from storage.database import StorageUnavailable
from storage.digest import DigestRepository
from storage.engagement import FlushRows, Rejected
from storage.engagement.flush import describe
from storage.unit_of_work import UnitOfWork

log = logging.getLogger("kehila.engagement")

# (Telegram reports each twice, and a restart may come between the two reports).
REPORTED_AGAIN = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Unwritten:
    """Counts the last flush at stop could not write to the database."""

    events: int
    reason: str  # the error's class and code
    kept_in: Path | None  # the spill file, or None: they could not be kept either


class Engagement:
    """The runtime state of the feature: the buffer and its flusher."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.buffer = Buffer()
        config = services.config.engagement
        self.interval = config.flush_interval_s
        self.max_events = config.flush_max_events
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._flushing: asyncio.Task[int] | None = None  # by volume or by the interval
        # Questions for the digest: buffered here, written with each flush.
        self.questions = QuestionTracker()
        # Members' active weeks this process has committed to `active_weeks`.
        self.noted = NotedWeeks()
        # What `flush(uow)` wrote into a caller's unit of work, not yet committed, and
        # the rows of it the database refused (set aside once it commits).
        self.uncommitted: (
            tuple[Buffer, QuestionBuffer, list[dict[str, Any]], list[Rejected]] | None
        ) = None
        # Set by `stop` when the last counts could not be written (`kehila run` exits 5).
        self.unwritten: Unwritten | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._every_interval())

    async def replay(self) -> None:
        """Write the counts an earlier stop kept in the spill file, once, before any
        event; the file is removed when they are committed. If they cannot be written
        the file stays and the start fails."""
        path = spill.spill_path(self.services.config)
        claimed = spill.claim(path)
        if claimed is None:
            return
        try:
            spill.load(claimed, self.buffer, self.questions.buffer, self.services.directory.by_id)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            unreadable = path.with_name(path.name + ".unreadable")
            claimed.rename(unreadable)
            log.error(
                "the counts kept at the last stop could not be read (%s); the file is left as %s",
                type(exc).__name__,
                unreadable,
            )
            self.buffer, self.questions.buffer = Buffer(), QuestionBuffer()
            return
        try:
            events = await self.flush()
        except Exception as exc:
            buffer, questions = self.buffer, self.questions.take()
            self.buffer = Buffer()
            spill.give_back(claimed, path, buffer, questions)
            raise StorageUnavailable(
                f"the counts kept at the last stop ({path}) could not be written: {describe(exc)}"
            ) from None
        claimed.unlink()
        log.warning("wrote %d counted events kept at the last stop (%s)", events, path)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)
        try:
            await self.flush()
        except Exception as exc:
            self._keep(describe(exc))

    def _keep(self, reason: str) -> None:
        """The flush at stop failed (its counts are back in the buffer): keep them in
        the spill file for the next start."""
        buffer, questions = self.buffer, self.questions.take()
        self.buffer = Buffer()
        path = spill.spill_path(self.services.config)
        try:
            spill.spill(path, buffer, questions)
        except (OSError, ValueError) as exc:
            self.unwritten = Unwritten(buffer.events, reason, None)
            log.critical(
                "%d counted events could not be written to the database (%s) nor kept in %s "
                "(%s): they are lost",
                buffer.events,
                reason,
                path,
                exc,
            )
            return
        self.unwritten = Unwritten(buffer.events, reason, path)
        log.error(
            "%d counted events could not be written to the database (%s); kept in %s, "
            "written at the next start",
            buffer.events,
            reason,
            path,
        )

    async def _every_interval(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            # Shielded: a stop cancels this wait, never a write under way. A flush
            # cancelled mid-statement lost the counts it had taken, and on SQLite its
            # cancelled write held the lock, so the flush at stop waited for it in vain.
            await asyncio.shield(self._in_background())

    def counted(self) -> None:
        buffer = self.buffer
        buffer.events += 1
        if buffer.events >= self.max_events and self._flushing is None:
            self._in_background()

    def _in_background(self) -> asyncio.Task[int]:
        """The flush under way in the background, started if none is (`stop` waits for it)."""
        if self._flushing is None:
            self._flushing = asyncio.get_running_loop().create_task(self._flush_logged())
        return self._flushing

    async def _flush_logged(self) -> int:
        try:
            return await self.flush()
        except Exception:
            log.exception("engagement flush failed; will retry")
            return 0
        finally:
            self._flushing = None

    async def flush(self, uow: UnitOfWork | None = None) -> int:
        """Write the buffered counters; returns how many events they held.

        With `uow`, write inside that unit of work (the caller commits): a job that
        already holds SQLite's write lock (its run claim) cannot wait for another.
        For the same reason it does not wait for a flush already under way (that one
        waits for the caller's lock): it writes nothing and returns 0."""
        if uow is not None and self._lock.locked():
            return 0
        async with self._lock:
            buffer, self.buffer = self.buffer, Buffer()
            questions = self.questions.take()
            if not buffer.events and not questions:
                return 0
            if buffer.unresolved:
                await self._resolve(buffer, uow)
            if self.services.directory.merged:
                self._follow_merges(buffer, questions)
            activity = [
                {
                    "community_id": c,
                    "day": d,
                    "member_id": m,
                    **dict(zip(ACTIVITY_COLUMNS, v, strict=True)),
                }
                for (c, d, m), v in buffer.activity.items()
            ]
            interactions = [
                {
                    "community_id": c,
                    "day": d,
                    "from_member_id": f,
                    "to_member_id": t,
                    "replies": v[0],
                    "reactions": v[1],
                }
                for (c, d, f, t), v in buffer.interactions.items()
            ]
            channels = [
                {"community_id": c, "day": d, "channel_id": ch, "hour": h, "messages": n}
                for (c, d, ch, h), n in buffer.channels.items()
            ]
            weekly = weekly_rows(buffer)
            active = self.noted.new(weekly)
            rows = FlushRows(
                activity,
                interactions,
                channels,
                weekly,
                active,
                list(questions.questions.values()),
                [
                    {"platform": p, "space_id": s, "message_id": m, "answered_at": at}
                    for (p, s, m), at in questions.answers.items()
                ],
                [
                    {"community_id": c, "text_missing_at": self.services.clock.now()}
                    for c in questions.no_text
                ],
            )
            started = time.perf_counter()
            try:
                if uow is not None:
                    rejected = await uow.engagement.flush(rows, alone=False)
                    # Kept until the caller's commit, to be given back if it fails.
                    self.uncommitted = (buffer, questions, active, rejected)
                else:
                    async with UnitOfWork(self.services.db) as own:
                        rejected = await own.engagement.flush(rows, alone=True)
                        await own.commit()
                    self.noted.committed(active)
                    self._set_aside(rejected)
            except Exception:
                self._merge_back(buffer)
                self.questions.merge_back(questions, self.services.directory.by_id)
                raise
            self.services.metrics.flush_seconds.observe(time.perf_counter() - started)
            return buffer.events

    def _follow_merges(self, buffer: Buffer, questions: QuestionBuffer) -> None:
        """Counts held for a member merged into another since they were counted (in
        this process while a flush was under way, or in another one) are the other's:
        moved before they are written, never written to the removed member."""
        directory = self.services.directory
        known = directory.by_id
        gone = {m for (_c, _d, m) in buffer.activity if m not in known}
        gone |= {m for k in buffer.interactions for m in (k[2], k[3]) if m not in known}
        asked = (r["member_id"] for r in questions.questions.values())
        gone |= {m for m in asked if isinstance(m, int) and m not in known}
        for member_id in gone:
            into = directory.moved(member_id)
            if into is not None:
                merge_buffer(buffer, member_id, into)
                for row in questions.questions.values():
                    if row["member_id"] == member_id:
                        row["member_id"] = into

    def _moved_back(self, rejected: list[Rejected]) -> list[Rejected]:
        """Rows refused because their member was merged away while the flush was
        being written (the merge committed first): their counts go back to the buffer
        under the member they are part of now, for the next flush. The weekly rows are
        made again from the daily ones. Returns the rows refused for another reason."""
        directory, buffer = self.services.directory, self.buffer
        rest: list[Rejected] = []
        for r in rejected:
            row = r.row
            ids = [row.get(c) for c in ("member_id", "from_member_id", "to_member_id")]
            moved = {i: directory.moved(i) for i in ids if isinstance(i, int)}
            if not moved or not any(moved.values()):
                rest.append(r)
                continue
            if r.table == "activity_daily":
                key = (row["community_id"], row["day"], _now(moved, row["member_id"]))
                counts = buffer.activity[key]
                for i, column in enumerate(ACTIVITY_COLUMNS):
                    counts[i] += int(row.get(column) or 0)
                buffer.events += 1
            elif r.table == "interaction_daily":
                a, b = _now(moved, row["from_member_id"]), _now(moved, row["to_member_id"])
                if a != b:
                    pair = buffer.interactions[(row["community_id"], row["day"], a, b)]
                    pair[0] += int(row.get("replies") or 0)
                    pair[1] += int(row.get("reactions") or 0)
            elif r.table == "digest_question":
                rest.append(r)  # a question's text is not kept in memory again
        return rest

    def _set_aside(self, rejected: list[Rejected]) -> None:
        """Rows the database refused, the rest of their flush written: logged (never
        with message text) and kept in the quarantine file, not retried."""
        if rejected:
            rejected = self._moved_back(rejected)
        if not rejected:
            return
        path = spill.quarantine_path(self.services.config)
        for r in rejected:
            log.error(
                "the database refused a row of %s (%s); the rest of the flush is written, "
                "this row is set aside in %s: %s",
                r.table,
                r.reason,
                path,
                r.loggable(),
            )
        try:
            spill.set_aside(path, rejected, self.services.clock.now())
        except OSError as exc:
            log.error("could not write %s (%s); the rows above are lost", path, exc)

    def committed(self) -> None:
        """The caller's unit of work committed what `flush(uow)` wrote into it."""
        if self.uncommitted is not None:
            _, _, active, rejected = self.uncommitted
            self.uncommitted = None
            self.noted.committed(active)
            self._set_aside(rejected)

    def give_back(self) -> None:
        """The caller's unit of work did not commit: keep its counts for the next flush."""
        if self.uncommitted is not None:
            buffer, questions, _, _ = self.uncommitted
            self.uncommitted = None
            self._merge_back(buffer)
            self.questions.merge_back(questions, self.services.directory.by_id)

    def _merge_back(self, old: Buffer) -> None:
        """A failed flush keeps its counts for the next one instead of losing them,
        except those of members deleted meanwhile (their rows would fail again)."""
        new, known = self.buffer, self.services.directory.by_id
        for key, values in old.activity.items():
            if key[2] not in known:
                continue
            row = new.activity[key]
            for i, v in enumerate(values):
                row[i] += v
        for ikey, pair in old.interactions.items():
            if ikey[2] not in known or ikey[3] not in known:
                continue
            row = new.interactions[ikey]
            row[0] += pair[0]
            row[1] += pair[1]
        for ckey, n in old.channels.items():
            new.channels[ckey] += n
        new.events += old.events

    async def _resolve(self, buffer: Buffer, uow: UnitOfWork | None) -> None:
        """Replies and reactions to accounts this process did not know: found in the
        database (another worker created them), they count as if seen here; the index
        learns them. Accounts that are no member (a bot never seen) are dropped."""
        keys = {(c, p, u) for (c, _d, _f, p, u) in buffer.unresolved}
        try:
            if uow is not None:
                found = await uow.members.find_accounts(keys)
            else:
                async with UnitOfWork(self.services.db) as own:
                    found = await own.members.find_accounts(keys)
        except Exception:
            log.exception("could not look up %d replied-to accounts; not counted", len(keys))
            return
        directory = self.services.directory
        for row in found:
            directory.add_member(
                MemberRef(
                    row.member_id,
                    row.community_id,
                    row.platform,
                    row.user_id,
                    row.display_name,
                    row.role,
                )
            )
        for (c, d, f, p, u), (replies, reactions) in buffer.unresolved.items():
            target = directory.member(c, p, u)
            if target is None or target.id == f:
                continue
            buffer.activity[(c, d, f)][REPLIES] += replies
            received = buffer.activity[(c, d, target.id)]
            received[REPLIES_RECEIVED] += replies
            received[REACTIONS_RECEIVED] += reactions
            pair = buffer.interactions[(c, d, f, target.id)]
            pair[0] += replies
            pair[1] += reactions
        buffer.unresolved.clear()

    def merge(self, from_id: int, into_id: int) -> None:
        """Two members are one person (committed): their unwritten counts are added
        up under `into_id`; what they did to each other is no interaction any more.
        (A flush under way holds counts too: it follows `Directory.merged`.)"""
        merge_buffer(self.buffer, from_id, into_id)
        self.questions.merge(from_id, into_id)
        self.noted.forget(from_id)
        self.noted.forget(into_id)  # the merged weeks are recorded again, idempotently

    def forget(self, member_id: int) -> None:
        """Drop a member's unwritten counts (they asked to be forgotten)."""
        buffer = self.buffer
        for key in [k for k in buffer.activity if k[2] == member_id]:
            del buffer.activity[key]
        self.questions.forget(member_id)
        self.noted.forget(member_id)
        for ikey in [k for k in buffer.interactions if member_id in (k[2], k[3])]:
            del buffer.interactions[ikey]


def _now(moved: dict[int, int | None], member_id: int) -> int:
    return moved.get(member_id) or member_id


def engagement(services: Services) -> Engagement:
    return services.state(Engagement)


def unwritten(services: Services) -> Unwritten | None:
    """What the flush at stop could not write to the database (None: all written)."""
    state = services.states.get(Engagement)
    return state.unwritten if isinstance(state, Engagement) else None


async def forget(ctx: Context, member_id: int) -> None:
    engagement(ctx.services).forget(member_id)
    await ctx.uow.activity.delete_member(member_id)
    # The digest's weekly rollup and the questions they asked (text excerpts).
    await ctx.uow.repo(DigestRepository).delete_member(member_id)


async def merge(ctx: Context, from_id: int, into_id: int) -> None:
    """Counters add up, questions move over; memory follows once committed."""
    await ctx.uow.engagement.merge_member(from_id, into_id)
    if ctx.community is not None:  # past weeks counted them as two people
        await ctx.uow.repo(DigestRepository).forget_weeks(ctx.community.id)
    state = engagement(ctx.services)
    ctx.after_commit(lambda: state.merge(from_id, into_id))


async def export(ctx: Context, member_id: int) -> dict[str, Any]:
    await engagement(ctx.services).flush()
    rows = await ctx.uow.activity.member_rows(member_id)
    questions = await ctx.uow.repo(DigestRepository).questions_of(member_id)
    return {
        "daily_activity": [{**r, "day": r["day"].isoformat()} for r in rows],
        "questions": questions,
    }


router = Router()


@router.on_startup
async def _start(services: Services) -> None:
    state = engagement(services)
    await state.replay()
    state.start()


@router.on_shutdown
async def _stop(services: Services) -> None:
    await engagement(services).stop()


# --- the hot path: no I/O here ----------------------------------------------------------


@router.observe(MessagePosted)
def on_message(
    services: Services, community: CommunityInfo, member: MemberRef, event: MessagePosted
) -> None:
    if event.private:
        return
    state = engagement(services)
    buffer = state.buffer
    day = community.local_day(event.at)
    row = buffer.activity[(community.id, day, member.id)]
    row[MESSAGES] += 1
    if event.reply_to_user_id is not None and event.reply_to_user_id != member.user_id:
        target = services.directory.member(community.id, event.platform, event.reply_to_user_id)
        if target is not None:
            row[REPLIES] += 1
            buffer.activity[(community.id, day, target.id)][REPLIES_RECEIVED] += 1
            buffer.interactions[(community.id, day, member.id, target.id)][0] += 1
        else:  # a member only another worker has seen: the flush asks the database
            key = (community.id, day, member.id, event.platform, event.reply_to_user_id)
            buffer.unresolved[key][0] += 1
    hour = community.local_hour(event.at)
    buffer.channels[(community.id, day, event.channel_id, hour)] += 1
    track(state.questions, community.id, member.id, event, community.locale)  # digest
    state.counted()


@router.observe(ReactionAdded)
def on_reaction(
    services: Services, community: CommunityInfo, member: MemberRef, event: ReactionAdded
) -> None:
    state = engagement(services)
    buffer = state.buffer
    day = community.local_day(event.at)
    buffer.activity[(community.id, day, member.id)][REACTIONS] += 1
    author = event.message_author_id
    if author is not None and author != member.user_id:
        target = services.directory.member(community.id, event.platform, author)
        if target is not None:
            buffer.activity[(community.id, day, target.id)][REACTIONS_RECEIVED] += 1
            buffer.interactions[(community.id, day, member.id, target.id)][1] += 1
        else:
            buffer.unresolved[(community.id, day, member.id, event.platform, author)][1] += 1
    state.counted()


# Late: the count is bookkeeping; it shares one transaction with the other features'
# late handlers of the join (a referral), after the welcome.
@router.on(MemberJoined, late=True)
async def on_join(ctx: Context, event: MemberJoined) -> None:
    if ctx.community is None or ctx.member is None:
        return
    members = ctx.uow.members
    if await members.mark_joined(ctx.member.id, event.at, repeat_within=REPORTED_AGAIN):
        _count(ctx, ctx.community, ctx.member.id, JOINS, event)


@router.on(MemberLeft, late=True)
async def on_leave(ctx: Context, event: MemberLeft) -> None:
    if ctx.community is None or ctx.member is None:
        return
    members = ctx.uow.members
    if await members.mark_left(ctx.member.id, event.at, repeat_within=REPORTED_AGAIN):
        _count(ctx, ctx.community, ctx.member.id, LEAVES, event)


def _count(ctx: Context, community: CommunityInfo, member_id: int, column: int, event: Any) -> None:
    def add() -> None:
        state = engagement(ctx.services)
        state.buffer.activity[(community.id, community.local_day(event.at), member_id)][column] += 1
        state.counted()

    ctx.after_commit(add)
