"""Join surges and raids: more than `moderation.surge_per_minute` joins within a minute.

The first join over the threshold publishes `SurgeStarted`; every join during the
surge moves its end (`SURGE_COOLDOWN` after the last one) and keeps the end job
scheduled, so one failed write cannot leave a surge open forever. When the job finds
the surge over, it publishes `SurgeEnded`. The count is in memory (per process), and
costs no transaction outside a surge.

A surge is a raid (`moderation.raid` on) when, besides, at least
`moderation.young_share` percent of the joins whose account age the platform tells
(Discord: from the account's id) are younger than `moderation.young_account_days`; on
a platform that does not tell (Telegram, the console) the joins alone decide, and the
alert says so. The raid is one incident: its alert names the invites the joins came
through and is edited with the final count when the surge ends.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.context import Context
from bot.events import JobFired, MemberJoined, SurgeEnded, SurgeStarted
from bot.feature import Router, Setting, channel_reference
from bot.features.moderation.alerts import Found, open_incident, refresh
from bot.features.moderation.settings import RAID, YOUNG_DAYS, YOUNG_SHARE
from bot.i18n import N_
from bot.schedule import ScheduleEntry
from storage.moderation import SENT_ALERT, ModerationRepo

SURGE_END_JOB = "moderation.surge_end"
# A surge is over this long after the last join that counted as one.
SURGE_COOLDOWN = timedelta(minutes=10)

router = Router()
router.setting(
    Setting(
        "moderation.surge_per_minute",
        10,
        N_("More joins than this within a minute pause welcomes and alert the moderators"),
        "integer",
        minimum=1,
        maximum=10_000,
    )
)
router.setting(
    Setting(
        "moderation.alert_channel",
        None,
        N_("The moderators' channel for alerts (empty: private messages to the owners)"),
        normalize=channel_reference,
    )
)


# Discord ids carry their creation time: milliseconds since 2015 in the top bits.
DISCORD_EPOCH_MS = 1_420_070_400_000


def account_created(platform: str, user_id: str) -> datetime | None:
    """When the account was made, where its id tells (Discord); else None."""
    if platform != "discord" or not user_id.isdigit():
        return None
    return datetime.fromtimestamp(((int(user_id) >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)


@dataclass(slots=True)
class Joined:
    at: datetime
    young: bool | None  # None: the platform does not say
    code: str | None


@dataclass(slots=True)
class Raid:
    """What a surge brought, counted while it lasts."""

    joins: int = 0
    young: int = 0
    known: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    incident_id: int | None = None

    def add(self, join: Joined) -> None:
        self.joins += 1
        if join.young is not None:
            self.known += 1
            self.young += join.young
        if join.code:
            self.codes[join.code] += 1

    def detail(self, days: int) -> dict[str, object]:
        return {
            "young": self.young,
            "known": self.known,
            "days": days,
            "codes": dict(self.codes.most_common(10)),
        }


@dataclass
class SurgeWatch:
    # Join times in the last minute, per community.
    joins: dict[int, deque[datetime]] = field(default_factory=dict)
    # Per community in a surge: when it ends unless more joins come.
    until: dict[int, datetime] = field(default_factory=dict)
    # The last minute's joins, per community, for the raid's figures.
    recent: dict[int, deque[Joined]] = field(default_factory=dict)
    # Per community in a surge: what it brought.
    raids: dict[int, Raid] = field(default_factory=dict)

    def note_details(
        self, community_id: int, join: Joined, surging: bool, started: bool
    ) -> Raid | None:
        window = self.recent.setdefault(community_id, deque())
        window.append(join)
        while window and window[0].at <= join.at - timedelta(minutes=1):
            window.popleft()
        if not surging:
            return None
        if started or community_id not in self.raids:
            raid = self.raids[community_id] = Raid()
            for earlier in window:
                raid.add(earlier)
            return raid
        raid = self.raids[community_id]
        raid.add(join)
        return raid

    def note_join(self, community_id: int, at: datetime, limit: int) -> tuple[bool, bool]:
        """Record a join; (in a surge now, this join started it)."""
        window = self.joins.setdefault(community_id, deque())
        window.append(at)
        while window and window[0] <= at - timedelta(minutes=1):
            window.popleft()
        until = self.until.get(community_id)
        if len(window) > limit:
            self.until[community_id] = at + SURGE_COOLDOWN
            return True, until is None or at >= until
        return (until is not None and at < until), False


@router.on(MemberJoined)
async def on_join(ctx: Context, event: MemberJoined) -> None:
    community = ctx.community
    if community is None or event.actor is None or event.actor.is_bot or event.pending:
        return
    watch = ctx.state(SurgeWatch)
    limit = int(ctx.setting("moderation.surge_per_minute"))
    surging, started = watch.note_join(community.id, event.at, limit)
    days = int(ctx.setting(YOUNG_DAYS.key))
    created = account_created(event.platform, event.actor.user_id)
    young = None if created is None else event.at - created < timedelta(days=days)
    raid = watch.note_details(
        community.id, Joined(event.at, young, event.invite_code), surging, started
    )
    if not surging or raid is None:
        return
    until = watch.until[community.id]
    await ctx.schedule(ScheduleEntry(SURGE_END_JOB, str(community.id), community.id, run_at=until))
    alerted = False
    if (
        raid.incident_id is None
        and ctx.setting(RAID)
        and _is_raid(raid, int(ctx.setting(YOUNG_SHARE.key)))
    ):
        incident = await open_incident(
            ctx,
            Found(
                kind="raid",
                platform=event.platform,
                space_id=event.space_id,
                count=raid.joins,
                detail=raid.detail(days),
            ),
        )
        if incident is not None:
            alerted = incident.alert == SENT_ALERT
            incident_id = incident.id
            ctx.after_commit(lambda: setattr(raid, "incident_id", incident_id))
    if started:
        ctx.publish(
            SurgeStarted(
                platform=event.platform,
                space_id=event.space_id,
                community_id=community.id,
                joins=len(watch.joins[community.id]),
                until=until,
                at=event.at,
                alerted=alerted,
            )
        )


@router.job(SURGE_END_JOB)
async def surge_end(ctx: Context, event: JobFired) -> None:
    community = ctx.community
    if community is None:
        return
    watch = ctx.state(SurgeWatch)
    until = watch.until.get(community.id)
    if until is not None and ctx.now < until:  # more joins moved the end
        await ctx.schedule(
            ScheduleEntry(SURGE_END_JOB, str(community.id), community.id, run_at=until)
        )
        return
    watch.until.pop(community.id, None)
    raid = watch.raids.pop(community.id, None)
    if raid is not None and raid.incident_id is not None:
        incident = await ctx.uow.repo(ModerationRepo).get(community.id, raid.incident_id)
        if incident is not None:
            incident.count = raid.joins
            incident.detail = {**raid.detail(int(ctx.setting(YOUNG_DAYS.key))), "name": ""}
            incident.updated_at = ctx.now
            await refresh(ctx, incident)
    ctx.publish(SurgeEnded(community_id=community.id, at=ctx.now))


def _is_raid(raid: Raid, share: int) -> bool:
    """Enough young accounts among those whose age is known (none known: the joins decide)."""
    return raid.known == 0 or raid.young * 100 >= share * raid.known
