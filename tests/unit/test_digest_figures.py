"""Every digest figure on hand-built rollups (weekly rows and daily interactions)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.features.engagement.digest import (
    Digest,
    change,
    compute,
    digest_week,
    point_change,
    question_window,
)
from storage.database import Database
from storage.digest import DigestRepository
from storage.unit_of_work import UnitOfWork

NOW = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
WEEK = date(2026, 3, 23)  # the reported week: Monday 23 to Sunday 29 March
WINDOW = question_window(WEEK, WEEK + timedelta(days=7), ZoneInfo("UTC"))
ALL_DAYS = 0b1111111


@dataclass
class World:
    db: Database
    community: int
    ids: dict[str, int]

    async def weekly(self, name: str, weeks_ago: int, *, mask: int = 1, **counts: int) -> None:
        row = {
            "community_id": self.community,
            "week_start": WEEK - timedelta(weeks=weeks_ago),
            "member_id": self.ids[name],
            "messages": 0,
            "replies": 0,
            "replies_received": 0,
            "reactions": 0,
            "joins": 0,
            "leaves": 0,
            "active_mask": mask,
            **counts,
        }
        async with UnitOfWork(self.db) as uow:
            await uow.engagement.add_weekly([row])
            await uow.commit()

    async def replies(self, who: str, to: str, n: int, day: date = WEEK) -> None:
        async with UnitOfWork(self.db) as uow:
            await uow.engagement.add_counts(
                [],
                [
                    {
                        "community_id": self.community,
                        "day": day,
                        "from_member_id": self.ids[who],
                        "to_member_id": self.ids[to],
                        "replies": n,
                        "reactions": 0,
                    }
                ],
                [],
            )
            await uow.commit()

    async def digest(self, staff: tuple[str, ...] = ("owner", "mod")) -> Digest:
        async with UnitOfWork(self.db) as uow:
            d = await compute(
                DigestRepository(uow.session),
                self.community,
                WEEK,
                [self.ids[s] for s in staff],
                window=WINDOW,
                now=NOW,
            )
            await uow.commit()
            return d


NAMES = ("owner", "mod", "dana", "noa", "eli", "tamar", "yael")


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    db = Database(db_url)
    async with UnitOfWork(db) as uow:
        community = await uow.communities.create("Club", "UTC", "en", NOW - timedelta(weeks=10))
        ids = {}
        for name in NAMES:
            role = {"owner": "owner", "mod": "moderator"}.get(name, "member")
            member = await uow.members.add(
                community.id, "console", name, name, NOW - timedelta(weeks=10), role=role
            )
            ids[name] = member.id
        await uow.commit()
        community_id = community.id
    yield World(db, community_id, ids)
    await db.dispose()


async def test_an_empty_community(world: World) -> None:
    d = await world.digest()
    t = d.this
    assert (t.active, t.messages, t.replies, t.reactions, t.joins, t.leaves) == (0, 0, 0, 0, 0, 0)
    assert t.avg_daily_active == 0 and t.monthly_active == 0
    assert t.stickiness is None and t.retention is None
    assert t.share("member_to_member") is None
    assert d.previous is None
    assert d.top == [] and d.drifting == [] and d.channels == []
    assert d.questions == 0 and not d.text_missing
    assert d.members_now == len(NAMES)
    assert len(d.trend) == 8 and all(w.is_empty for w in d.trend)


async def test_a_first_week_has_no_previous_week(world: World) -> None:
    await world.weekly("dana", 0, messages=10, mask=0b0000111, joins=1)
    d = await world.digest()
    assert d.previous is None
    assert d.this.active == 1 and d.this.messages == 10 and d.this.joins == 1
    assert change("en", d.this.messages, None) == ""


async def test_activity_figures_and_their_changes(world: World) -> None:
    # This week: dana every day, noa on Monday and Tuesday; last week: dana 3 days.
    await world.weekly("dana", 0, messages=14, replies=4, reactions=3, mask=ALL_DAYS)
    await world.weekly("noa", 0, messages=2, mask=0b0000011)
    await world.weekly("dana", 1, messages=7, mask=0b0000111)
    await world.weekly("eli", 3, messages=1)  # within 4 weeks: monthly active
    await world.weekly("tamar", 4, messages=1)  # five weeks ago: not
    d = await world.digest()
    t, p = d.this, d.previous
    assert p is not None
    assert t.active == 2 and p.active == 1
    assert t.avg_daily_active == pytest.approx(9 / 7)
    assert t.daily_active == (2, 2, 1, 1, 1, 1, 1)
    assert t.monthly_active == 3  # dana, noa, eli
    assert t.stickiness == pytest.approx((9 / 7) / 3)
    assert (t.messages, t.replies, t.reactions) == (16, 4, 3)
    assert change("en", t.messages, p.messages) == "(+129%)"
    assert change("en", 5, 10) == "(−50%)"
    assert change("en", 10, 10) == "(±0%)"
    assert change("en", 3, 0) == "(+3)"
    assert change("de", 16, 7) == "(+129\u00a0%)"


async def test_staff_are_left_out_of_top_contributors(world: World) -> None:
    await world.weekly("owner", 0, messages=100)
    await world.weekly("mod", 0, messages=50)
    await world.weekly("dana", 0, messages=5)
    await world.weekly("noa", 0, messages=9)
    await world.weekly("eli", 0, reactions=20)  # reacted only: active, but wrote nothing
    d = await world.digest()
    assert [(m.name, m.count) for m in d.top] == [("noa", 9), ("dana", 5)]


async def test_drifting_members(world: World) -> None:
    for weeks_ago in (1, 2, 3, 4):
        await world.weekly("dana", weeks_ago, messages=3)  # four weeks, then silent
        await world.weekly("noa", weeks_ago, messages=9)  # four weeks, then silent: first
        await world.weekly("eli", weeks_ago, messages=5)  # still active this week
        await world.weekly("owner", weeks_ago, messages=50)  # staff: never listed
        if weeks_ago != 3:
            await world.weekly("tamar", weeks_ago, messages=20)  # missed a week
    await world.weekly("eli", 0, messages=1)
    await world.weekly("yael", 2, messages=1, mask=0)  # a row without activity
    d = await world.digest()
    assert [(m.name, m.count) for m in d.drifting] == [("noa", 36), ("dana", 12)]


async def test_at_most_ten_drifting_members(db_url: str) -> None:
    db = Database(db_url)
    try:
        async with UnitOfWork(db) as uow:
            c = await uow.communities.create("Big", "UTC", "en", NOW)
            ids = [
                (await uow.members.add(c.id, "console", f"m{i}", f"m{i}", NOW)).id
                for i in range(15)
            ]
            rows = [
                {
                    "community_id": c.id,
                    "week_start": WEEK - timedelta(weeks=k),
                    "member_id": m,
                    "messages": i + 1,
                    "replies": 0,
                    "replies_received": 0,
                    "reactions": 0,
                    "joins": 0,
                    "leaves": 0,
                    "active_mask": 1,
                }
                for i, m in enumerate(ids)
                for k in (1, 2, 3, 4)
            ]
            await uow.engagement.add_weekly(rows)
            repo = DigestRepository(uow.session)
            people = await repo.people(c.id, WEEK, [])
        assert [m.name for m in people.drifting] == [f"m{i}" for i in range(14, 4, -1)]
    finally:
        await db.dispose()


async def test_retention_of_last_weeks_newcomers(world: World) -> None:
    await world.weekly("dana", 1, joins=1, messages=1)
    await world.weekly("noa", 1, joins=1, mask=0)  # joined, said nothing
    await world.weekly("eli", 1, joins=1, messages=2)
    await world.weekly("dana", 0, messages=1)  # came back
    await world.weekly("noa", 0, reactions=1)  # came back (reacting counts)
    await world.weekly("tamar", 0, joins=1, messages=1)  # this week's newcomer
    d = await world.digest()
    assert (d.this.newcomers, d.this.newcomers_back) == (3, 2)
    assert d.this.retention == pytest.approx(2 / 3)


async def test_the_shares_of_replies(world: World) -> None:
    # Replies: dana→noa 6, noa→dana 2 (member↔member 8); owner→dana 3, mod→noa 1
    # (owner→member 4); eli→owner 2, dana→mod 1 (member→owner 3); owner→mod 5 (staff).
    pairs = [
        ("dana", "noa", 6), ("noa", "dana", 2), ("owner", "dana", 3), ("mod", "noa", 1),
        ("eli", "owner", 2), ("dana", "mod", 1), ("owner", "mod", 5),
    ]  # fmt: skip
    sent: dict[str, int] = {}
    received: dict[str, int] = {}
    for who, to, n in pairs:
        await world.replies(who, to, n, WEEK + timedelta(days=n % 7))
        sent[who] = sent.get(who, 0) + n
        received[to] = received.get(to, 0) + n
    for name in set(sent) | set(received):
        await world.weekly(
            name, 0, messages=sent.get(name, 0), replies=sent.get(name, 0),
            replies_received=received.get(name, 0),
        )  # fmt: skip
    d = await world.digest()
    s = d.this.split
    assert s.total == 20
    assert (s.member_to_member, s.owner_to_member, s.member_to_owner, s.staff_to_staff) == (
        8, 4, 3, 5,
    )  # fmt: skip
    assert d.this.share("member_to_member") == pytest.approx(0.4)
    assert point_change(0.40, 0.35) == "(+5)"
    assert point_change(0.40, None) == ""


async def test_the_share_trend_is_cached_per_finished_week(world: World) -> None:
    await world.weekly("dana", 2, messages=4, replies=4, mask=1)
    await world.weekly("noa", 2, replies_received=4)
    d = await world.digest()
    assert [w.split.total for w in d.trend] == [0, 0, 0, 0, 0, 4, 0, 0]
    # A finished week is not recomputed: a late change to its rows is not seen.
    await world.weekly("dana", 2, messages=1, replies=1)
    again = await world.digest()
    assert [w.split.total for w in again.trend] == [0, 0, 0, 0, 0, 4, 0, 0]
    assert again.trend[-3].share("member_to_member") == 1.0


async def test_members_now_and_growth(world: World) -> None:
    await world.weekly("tamar", 0, joins=1)
    await world.weekly("yael", 0, joins=1, leaves=1)
    d = await world.digest()
    assert (d.this.joins, d.this.leaves, d.this.net) == (2, 1, 1)
    assert d.members_now == len(NAMES)


async def test_unanswered_questions_need_24_hours_without_a_reply(world: World) -> None:
    start = WINDOW[0]
    rows = []
    for i, (asked, answered) in enumerate(
        [
            (start + timedelta(hours=1), None),  # unanswered
            (start + timedelta(hours=2), start + timedelta(hours=30)),  # answered too late
            (start + timedelta(hours=3), start + timedelta(hours=4)),  # answered
            (start - timedelta(hours=1), None),  # reported the week before
        ]
    ):
        rows.append(
            {
                "community_id": world.community,
                "member_id": world.ids["dana"],
                "platform": "console",
                "space_id": "console",
                "channel_id": "general",
                "message_id": str(i),
                "asked_at": asked,
                "excerpt": f"question {i}?",
                "answered_at": answered,
            }
        )
    async with UnitOfWork(world.db) as uow:
        await uow.engagement.add_questions(rows)
        await uow.commit()
    d = await world.digest()
    assert d.questions == 2
    assert [q.excerpt for q in d.question_refs] == ["question 1?", "question 0?"]


def test_the_reported_week_and_question_window() -> None:
    assert digest_week(date(2026, 3, 30)) == (date(2026, 3, 23), date(2026, 3, 30))
    assert digest_week(date(2026, 4, 1)) == (date(2026, 3, 23), date(2026, 3, 30))  # Wednesday
    since, until = question_window(date(2026, 3, 23), date(2026, 3, 30), ZoneInfo("Europe/Berlin"))
    assert since == datetime(2026, 3, 22, tzinfo=ZoneInfo("Europe/Berlin"))
    assert until == datetime(2026, 3, 29, tzinfo=ZoneInfo("Europe/Berlin"))


async def test_a_question_asked_on_the_window_s_first_second_is_in_that_week(world: World) -> None:
    # Telegram's message times are whole seconds: a question at the very start of the
    # window belongs to it, and one at its very end to the next week.
    start, end = WINDOW
    rows = [
        {
            "community_id": world.community,
            "member_id": world.ids["dana"],
            "platform": "telegram",
            "space_id": "-100",
            "channel_id": "-100",
            "message_id": str(i),
            "asked_at": asked,
            "excerpt": f"question {i}?",
            "answered_at": None,
        }
        for i, asked in enumerate([start, end])
    ]
    async with UnitOfWork(world.db) as uow:
        await uow.engagement.add_questions(rows)
        await uow.commit()
    d = await world.digest()
    assert [q.excerpt for q in d.question_refs] == ["question 0?"]
    assert d.questions == 1
