"""The digest's wiring: settings, its weekly schedule per community, the job that
sends it, `/digest now|settings`, `/export activity`, and the daily cleanup. (Questions
are noted by the counting handler, `unanswered.track`, on the hot path.)

Schedules: one recurring entry per community (`engagement.digest`,
`community:<id>`), cron fields in the community's time zone. They are reconciled
with the settings at start, after `/digest settings`, after `/config set|reset` of
a `digest.*` key or the time zone, on the first command or join of a community this
process has not reconciled yet (`/setup` itself is one), and by the daily cleanup.
The run claim (dispatcher) keeps each week's digest single; a missed run fires once,
late, and the digest says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from babel.dates import format_date

from bot.actions import Attachment
from bot.channels import channel_names
from bot.commands import CommandSpec, OptionSpec, Permission
from bot.context import Context, store_schedule
from bot.directory import CommunityInfo, Directory, MemberRef
from bot.events import CommandInvoked, JobFired, MemberJoined, SettingChanged
from bot.feature import Router, Setting
from bot.features.engagement.chart import ChartData
from bot.features.engagement.counting import engagement
from bot.features.engagement.digest import (
    TREND_WEEKS,
    Digest,
    cache_weeks,
    compute,
    digest_week,
    question_window,
    render,
)
from bot.features.engagement.drawing import ChartDrawer
from bot.features.engagement.export import activity_csv
from bot.i18n import N_, translate_plural, weekday
from bot.markup import Text
from bot.schedule import ScheduleEntry
from bot.services import Services
from bot.usage import usage
from storage.digest import DigestRepository
from storage.unit_of_work import UnitOfWork

log = logging.getLogger("kehila.digest")
router = Router()

JOB = "engagement.digest"
CLEANUP_JOB = "engagement.cleanup"
CLEANUP_CRON = {"hour": 3, "minute": 30}
QUESTIONS_KEPT = timedelta(days=30)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


DAY_NAMES = {
    "mon": N_("Monday"),
    "tue": N_("Tuesday"),
    "wed": N_("Wednesday"),
    "thu": N_("Thursday"),
    "fri": N_("Friday"),
    "sat": N_("Saturday"),
    "sun": N_("Sunday"),
}


def _day(text: str) -> str | None:
    """A weekday as an owner writes it, in any of the three languages ("Montag", "שני")."""
    index = weekday(text)
    return DAYS[index] if index is not None else None


RECIPIENTS = {"owners": ("owner",), "owners+moderators": ("owner", "moderator")}
RECIPIENT_NAMES = (("owners", N_("owners")), ("owners+moderators", N_("owners and moderators")))

router.setting(
    Setting(
        "digest.day",
        "mon",
        N_("Weekday of the weekly digest"),
        type="choice",
        choices=DAYS,
        aliases=_day,
        names=tuple(DAY_NAMES.items()),
    )
)
router.setting(
    Setting(
        "digest.hour",
        9,
        N_("Hour of the weekly digest, in the community's time zone"),
        type="integer",
        minimum=0,
        maximum=23,
    )
)
router.setting(
    Setting(
        "digest.recipients",
        "owners",
        N_("Who gets the weekly digest"),
        type="choice",
        choices=tuple(RECIPIENTS),
        names=RECIPIENT_NAMES,
    )
)


@dataclass
class DigestRuntime:
    # Communities whose schedule this process has reconciled since it started.
    reconciled: set[int] = field(default_factory=set)


def runtime(services: Services) -> DigestRuntime:
    return services.state(DigestRuntime)


# --- schedules ----------------------------------------------------------------------


def entry_for(directory: Directory, community: CommunityInfo) -> ScheduleEntry:
    day = str(directory.setting(community, "digest.day"))
    hour = int(directory.setting(community, "digest.hour"))
    return ScheduleEntry(
        JOB,
        f"community:{community.id}",
        community.id,
        cron={"day_of_week": day, "hour": hour, "minute": 0},
        timezone=community.timezone,
    )


_DAY_NAMES = {
    "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
    "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
}  # fmt: skip


def describe_schedule(entry: ScheduleEntry) -> str:
    """The digest's schedule in words, for the log: "Mondays at 09:00 (Europe/Berlin)"."""
    cron = entry.cron or {}
    day = _DAY_NAMES.get(str(cron.get("day_of_week")), str(cron.get("day_of_week")))
    return f"{day}s at {int(cron.get('hour', 0)):02d}:{int(cron.get('minute', 0)):02d} ({entry.timezone})"


def _same(stored: Any, entry: ScheduleEntry) -> bool:
    return bool(
        stored is not None
        and stored.cron == entry.cron
        and stored.timezone == entry.timezone
        and stored.community_id == entry.community_id
    )


async def reconcile(ctx: Context, community: CommunityInfo) -> bool:
    """Store (and hand to the timer) the community's digest schedule if it changed."""
    entry = entry_for(ctx.services.directory, community)
    stored = await ctx.uow.jobs.get(entry.job, entry.key)
    state = runtime(ctx.services)
    ctx.after_commit(lambda: state.reconciled.add(community.id))
    if _same(stored, entry):
        return False
    await ctx.schedule(entry)
    log.info("digest of community %s scheduled: %s", community.id, describe_schedule(entry))
    return True


@router.on_startup
async def _schedule_digests(services: Services) -> None:
    """Every community's digest schedule, and the daily cleanup, as the settings say.
    Written before the timer loads the schedules; an unchanged schedule is left as
    it is, so a run missed while the bot was down still fires (late)."""
    now = services.clock.now()
    directory = services.directory
    async with UnitOfWork(services.db) as uow:
        wanted = [entry_for(directory, c) for c in directory.communities.values()]
        wanted.append(ScheduleEntry(CLEANUP_JOB, "daily", None, cron=dict(CLEANUP_CRON)))
        for entry in wanted:
            stored = await uow.jobs.get(entry.job, entry.key)
            if not _same(stored, entry):
                await store_schedule(uow, entry, now)  # nothing before now is due
        await uow.commit()
    runtime(services).reconciled = set(directory.communities)


async def _ensure(ctx: Context) -> None:
    community = ctx.community
    if community is not None and community.id not in runtime(ctx.services).reconciled:
        await reconcile(ctx, community)


RESCHEDULING_KEYS = frozenset({"digest.day", "digest.hour", "timezone"})


@router.on(SettingChanged)
async def on_setting_changed(ctx: Context, event: SettingChanged) -> None:
    """The schedule follows its settings, whoever changed them."""
    if event.key in RESCHEDULING_KEYS and ctx.community is not None:
        await reconcile(ctx, ctx.community)


@router.on(CommandInvoked)
async def after_command(ctx: Context, event: CommandInvoked) -> None:
    await _ensure(ctx)


@router.on(MemberJoined)
async def on_join_schedule(ctx: Context, event: MemberJoined) -> None:
    await _ensure(ctx)


# --- building and sending ------------------------------------------------------------


def recipients(ctx: Context, community: CommunityInfo) -> list[MemberRef]:
    key = str(ctx.services.directory.setting(community, "digest.recipients"))
    return ctx.services.directory.staff(community.id, RECIPIENTS.get(key, ("owner",)))


def chart_data(ctx: Context, community: CommunityInfo, d: Digest) -> ChartData:
    first = d.week_end - timedelta(weeks=TREND_WEEKS)
    days = [first + timedelta(days=i) for i in range(TREND_WEEKS * 7)]
    by_week = {w.week_start: w for w in d.trend}
    active: list[int] = []
    messages: list[int] = []
    for day in days:
        week = by_week.get(day - timedelta(days=day.weekday()))
        active.append(week.daily_active[day.weekday()] if week else 0)
        messages.append(week.daily_messages[day.weekday()] if week else 0)
    weeks = [w.week_start for w in d.trend]
    heading = ctx.gettext(N_("Weekly digest"))  # outside the f-string, so Babel finds it
    return ChartData(
        title=f"{community.name} · {heading}",
        days=days,
        daily_active=active,
        daily_messages=messages,
        weeks=weeks,
        member_share=[w.share("member_to_member") for w in d.trend],
        owner_share=[w.share("owner_to_member") for w in d.trend],
        to_owner_share=[w.share("member_to_owner") for w in d.trend],
    )


async def build(
    ctx: Context,
    community: CommunityInfo,
    local_day: date,
    *,
    late: bool,
    cache: bool = True,
    skip_empty: bool = False,
) -> tuple[Text, Attachment] | None:
    """The digest of the last full week before `local_day`: its text and chart.
    With `skip_empty`, None when nothing at all was recorded in the eight weeks (a
    community set up after the week it would report on)."""
    week_start, week_end = digest_week(local_day)
    staff = [m.id for m in ctx.services.directory.staff(community.id, ("owner", "moderator"))]
    repo = ctx.uow.repo(DigestRepository)
    # Read first, draw, and only then write the weeks to cache: on SQLite no write lock
    # is held while the chart is drawn (the run claim comes last there, dispatcher).
    d = await compute(
        repo,
        community.id,
        week_start,
        staff,
        window=question_window(week_start, week_end, community.tz),
        now=ctx.now,
        cache=False,
    )
    if skip_empty and all(w.is_empty for w in d.trend):
        return None
    extra: list[Text] = []
    sections = [f for f in ctx.services.features if f.digest is not None]
    for f in sorted(sections, key=lambda f: f.digest.order if f.digest else 0):
        assert f.digest is not None
        try:
            section = await f.digest.render(ctx, week_start, week_end)
        except Exception:
            log.exception("the %s digest section failed; left out", f.name)
            continue
        if section is not None:
            extra.append(section)
    shown = [c for c, _ in d.channels] + [q.channel_id for q in d.question_refs]
    names = await channel_names(ctx.services, community, shown)
    text = render(ctx, d, late=late, extra=extra, names=names)
    png = await ctx.services.state(ChartDrawer).draw(chart_data(ctx, community, d), ctx.locale)
    if cache:
        await cache_weeks(repo, community.id, d.fresh, ctx.now)
    return text, Attachment(f"digest-{community.id}-{week_start.isoformat()}.png", png, "image/png")


@router.job(JOB, claim_last=True)
async def send_digest(ctx: Context, event: JobFired) -> None:
    community = ctx.community
    if community is None:
        return
    # The counts still in memory belong to this digest: written first, in a
    # transaction of their own (on SQLite this run holds no write lock yet: its
    # claim comes last), so the figures below read them.
    await engagement(ctx.services).flush()
    local_day = community.local_day(event.scheduled_for)
    built = await build(ctx, community, local_day, late=event.late, skip_empty=True)
    if built is None:
        log.info("digest of community %s for %s: no activity recorded yet", community.id, local_day)
        return
    text, chart = built
    # Queued in this run's transaction (with its claim): sent once, paced, by the outbox.
    for member in recipients(ctx, community):
        ctx.direct(member, text, attachments=[chart], confidential=True, bulk=True)
    log.info(
        "digest of community %s for %s queued%s",
        community.id,
        local_day,
        " late" if event.late else "",
    )


@router.on_shutdown
async def _stop_drawing(services: Services) -> None:
    services.state(ChartDrawer).close()


@router.job(CLEANUP_JOB)
async def cleanup(ctx: Context, event: JobFired) -> None:
    """Daily: questions older than 30 days are deleted; schedules are reconciled."""
    deleted = await ctx.uow.repo(DigestRepository).forget_old_questions(ctx.now - QUESTIONS_KEPT)
    if deleted:
        log.info("deleted %d question references older than 30 days", deleted)
    for community in list(ctx.services.directory.communities.values()):
        await reconcile(ctx, community)


# --- commands ------------------------------------------------------------------------

# Each option is optional: what is given changes, the rest stays; none shows the
# schedule (on Discord any one may be given alone).
SETTINGS = CommandSpec(
    "settings",
    N_("Show or change the digest's weekday, hour and recipients"),
    options=(
        OptionSpec(
            "day",
            N_("Weekday"),
            "choice",
            required=False,
            choices=DAYS,
            aliases=_day,
            names=tuple(DAY_NAMES.items()),
        ),
        OptionSpec("hour", N_("Hour, 0 to 23"), "integer", required=False, minimum=0, maximum=23),
        OptionSpec(
            "recipients",
            N_("Who gets it"),
            "choice",
            required=False,
            choices=tuple(RECIPIENTS),
            names=RECIPIENT_NAMES,
        ),
    ),
    permission=Permission.OWNER,
)

router.command(
    CommandSpec(
        "digest",
        N_("The weekly digest: preview it or change when it comes"),
        permission=Permission.OWNER,
        subcommands=(
            CommandSpec(
                "now", N_("Show the digest of the last full week now"), permission=Permission.OWNER
            ),
            SETTINGS,
        ),
    )
)
router.command(
    CommandSpec(
        "export",
        N_("Download community data as a file"),
        permission=Permission.OWNER,
        subcommands=(
            CommandSpec(
                "activity",
                N_("Per-member weekly activity as CSV"),
                options=(
                    OptionSpec(
                        "weeks",
                        N_("How many weeks (1 to 52)"),
                        "integer",
                        required=False,
                        minimum=1,
                        maximum=52,
                    ),
                ),
                permission=Permission.OWNER,
            ),
        ),
    )
)


@router.handles("digest now")
async def digest_now(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    await engagement(ctx.services).flush()
    built = await build(ctx, community, community.local_day(ctx.now), late=False, cache=False)
    assert built is not None
    text, chart = built
    ctx.reply(text, private=True, attachments=[chart], confidential=True)


@router.handles("digest settings")
async def digest_settings(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    specs = ctx.services.directory.setting_specs
    given = {
        key: args[name]
        for name, key in (
            ("day", "digest.day"),
            ("hour", "digest.hour"),
            ("recipients", "digest.recipients"),
        )
        if args.get(name) is not None
    }
    for key, value in given.items():
        try:
            specs[key].parse(str(value))
        except ValueError:  # checked by the platform too; a stale Discord command may not
            ctx.reply(
                ctx._(N_("{value} is not valid for {key}."), value=value, key=key), private=True
            )
            return
    for key, value in given.items():
        # The schedule follows (on_setting_changed) once this commits.
        await ctx.set_setting(key, value)
    day = str(given.get("digest.day", ctx.setting("digest.day")))
    hour = int(given.get("digest.hour", ctx.setting("digest.hour")))
    who = str(given.get("digest.recipients", ctx.setting("digest.recipients")))
    when = {
        "day": _day_name(ctx, day),
        "hour": f"{hour:02d}",
        "timezone": community.timezone,
        "who": ctx.gettext(WHO[who]),
    }
    if given:
        said = ctx._(
            N_("The digest now comes every {day} at {hour}:00 ({timezone}) to {who}."), **when
        )
    else:
        said = ctx._(N_("The digest comes every {day} at {hour}:00 ({timezone}) to {who}."), **when)
        said = said + "\n" + usage(ctx, SETTINGS, "digest settings")
    ctx.reply(said, private=True)


WHO = {"owners": N_("the owners"), "owners+moderators": N_("the owners and moderators")}


def _day_name(ctx: Context, day: str) -> str:
    return ctx.gettext(DAY_NAMES[day])


@router.handles("export activity")
async def export_activity(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    weeks = args.get("weeks") or 8  # 1 to 52: the option's range, checked by `resolve`
    await engagement(ctx.services).flush()
    today = community.local_day(ctx.now)
    until = today - timedelta(days=today.weekday()) + timedelta(days=7)  # this week included
    since = until - timedelta(weeks=int(weeks))
    rows = await ctx.uow.repo(DigestRepository).member_weeks(community.id, since, until)
    data = activity_csv(rows)
    loc = ctx.locale
    ctx.reply(
        ctx._(
            N_("Weekly activity per member, {weeks} from {since}: {rows}."),
            weeks=translate_plural(loc, "{n} week", "{n} weeks", int(weeks)),
            since=format_date(since, "medium", locale=loc),
            rows=translate_plural(loc, "{n} row", "{n} rows", len(rows)),
        ),
        private=True,
        attachments=[
            Attachment(f"activity-{community.id}-{today.isoformat()}.csv", data, "text/csv")
        ],
    )
