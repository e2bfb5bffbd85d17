"""Repositories: the queries the core needs, one class per aggregate.

Each takes the unit of work's session; none commits (the unit of work does).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    MEMBER_GONE,
    Base,
    Community,
    CommunitySetting,
    Identity,
    JobRun,
    JobSchedule,
    Member,
    MemberTag,
    PendingDirect,
    Space,
    storable_text,
)


def dialect_insert(session: AsyncSession, table: type[Base] | Table) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (SQLite and PostgreSQL alike)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


async def present_members(session: AsyncSession, community_id: int) -> int:
    """Members of a community who have not left and are not bots: every member minus
    those gone, two counts over indexes (`ix_member_gone` is partial) instead of a
    look at each member row."""
    of = Member.community_id == community_id
    every = select(func.count()).select_from(Member).where(of).scalar_subquery()
    gone = select(func.count()).select_from(Member).where(of, MEMBER_GONE).scalar_subquery()
    return int(await session.scalar(select(every - gone)) or 0)


class _Repo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session


class Communities(_Repo):
    async def create(self, name: str, timezone: str, locale: str, now: datetime) -> Community:
        community = Community(name=name, timezone=timezone, locale=locale, created_at=now)
        self.session.add(community)
        await self.session.flush()
        return community

    async def get(self, community_id: int) -> Community | None:
        return await self.session.get(Community, community_id)

    async def all(self) -> Sequence[Community]:
        return (await self.session.scalars(select(Community).order_by(Community.id))).all()

    async def update(self, community_id: int, **fields: Any) -> None:
        await self.session.execute(
            update(Community).where(Community.id == community_id).values(**fields)
        )


class Spaces(_Repo):
    async def find(self, platform: str, external_id: str) -> Space | None:
        return await self.session.scalar(
            select(Space).where(Space.platform == platform, Space.external_id == external_id)
        )

    async def ensure(self, platform: str, external_id: str, title: str, now: datetime) -> Space:
        space = await self.find(platform, external_id)
        if space is None:
            space = Space(platform=platform, external_id=external_id, title=title, added_at=now)
            self.session.add(space)
            await self.session.flush()
        elif not space.active or space.title != title:
            space.active, space.title = True, title
        return space

    async def of_community(self, community_id: int) -> Sequence[Space]:
        return (
            await self.session.scalars(
                select(Space).where(Space.community_id == community_id, Space.active)
            )
        ).all()

    async def claimed(self) -> Sequence[Space]:
        return (
            await self.session.scalars(select(Space).where(Space.community_id.isnot(None)))
        ).all()


@dataclass(frozen=True, slots=True)
class IdentityRow:
    community_id: int
    platform: str
    user_id: str
    member_id: int
    role: str
    display_name: str


# An account with its member, as the in-memory index holds it (`IdentityRow`).
_IDENTITY_ROWS = select(
    Identity.community_id,
    Identity.platform,
    Identity.user_id,
    Member.id,
    Member.role,
    Member.display_name,
).join(Member, Member.id == Identity.member_id)


class Members(_Repo):
    async def add(
        self,
        community_id: int,
        platform: str,
        user_id: str,
        display_name: str,
        now: datetime,
        *,
        is_bot: bool = False,
        role: str = "member",
        space_external_id: str | None = None,
    ) -> Member:
        member = Member(
            community_id=community_id,
            display_name=storable_text(display_name)[:200],
            role=role,
            is_bot=is_bot,
            first_seen_at=now,
            joined_at=None,
            left_at=None,
        )
        self.session.add(member)
        await self.session.flush()
        self.session.add(
            Identity(
                member_id=member.id,
                community_id=community_id,
                platform=platform,
                user_id=user_id,
                space_external_id=space_external_id,
            )
        )
        await self.session.flush()
        return member

    async def add_new(
        self,
        community_id: int,
        platform: str,
        user_id: str,
        display_name: str,
        now: datetime,
        **kwargs: Any,
    ) -> Member | None:
        """`add`, or None when the account exists already (created by another process
        meanwhile); the unit of work must then be rolled back. Saves the lookup first."""
        try:
            return await self.add(community_id, platform, user_id, display_name, now, **kwargs)
        except IntegrityError:
            return None

    async def get(self, member_id: int) -> Member | None:
        return await self.session.get(Member, member_id)

    async def find(self, community_id: int, platform: str, user_id: str) -> Member | None:
        return await self.session.scalar(
            select(Member)
            .join(Identity, Identity.member_id == Member.id)
            .where(
                Identity.community_id == community_id,
                Identity.platform == platform,
                Identity.user_id == user_id,
            )
        )

    async def find_accounts(self, accounts: Iterable[tuple[int, str, str]]) -> list[IdentityRow]:
        """The members behind (community, platform, user id) accounts that exist."""
        wanted = list(accounts)
        if not wanted:
            return []
        rows = await self.session.execute(
            _IDENTITY_ROWS.where(
                or_(
                    *(
                        and_(
                            Identity.community_id == c,
                            Identity.platform == p,
                            Identity.user_id == u,
                        )
                        for c, p, u in wanted
                    )
                )
            )
        )
        return [IdentityRow(*row) for row in rows]

    async def identities(self, member_id: int) -> Sequence[Identity]:
        return (
            await self.session.scalars(
                select(Identity).where(Identity.member_id == member_id).order_by(Identity.id)
            )
        ).all()

    async def index(self) -> list[IdentityRow]:
        """Every identity with its member's role: the dispatcher's in-memory index."""
        rows = await self.session.execute(_IDENTITY_ROWS)
        return [IdentityRow(*row) for row in rows]

    async def by_name(self, community_id: int, name: str) -> Sequence[Member]:
        return (
            await self.session.scalars(
                select(Member).where(
                    Member.community_id == community_id,
                    func.lower(Member.display_name) == name.lower(),
                )
            )
        ).all()

    async def with_role(self, community_id: int, roles: Iterable[str]) -> Sequence[Member]:
        return (
            await self.session.scalars(
                select(Member)
                .where(Member.community_id == community_id, Member.role.in_(list(roles)))
                .order_by(Member.id)
            )
        ).all()

    async def set_role(self, member_id: int, role: str) -> None:
        await self.session.execute(update(Member).where(Member.id == member_id).values(role=role))

    async def mark_joined(
        self, member_id: int, at: datetime, *, repeat_within: timedelta = timedelta(0)
    ) -> bool:
        """Record a join. False, and nothing changed, when it repeats the join on record:
        the member is here, having joined within `repeat_within` of `at`."""
        query = update(Member).where(Member.id == member_id)
        if repeat_within:
            query = query.where(
                ~and_(
                    Member.left_at.is_(None),
                    Member.joined_at.is_not(None),
                    Member.joined_at.between(at - repeat_within, at + repeat_within),
                )
            )
        result = await self.session.execute(query.values(joined_at=at, left_at=None))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_left(
        self, member_id: int, at: datetime, *, repeat_within: timedelta = timedelta(0)
    ) -> bool:
        """Record a leave. False, and nothing changed, when it repeats the leave on
        record (within `repeat_within` of `at`)."""
        query = update(Member).where(Member.id == member_id)
        if repeat_within:
            query = query.where(
                ~and_(
                    Member.left_at.is_not(None),
                    Member.left_at.between(at - repeat_within, at + repeat_within),
                )
            )
        result = await self.session.execute(query.values(left_at=at))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def count(self, community_id: int, *, present_only: bool = True) -> int:
        if present_only:
            return await present_members(self.session, community_id)
        query = select(func.count()).select_from(Member).where(Member.community_id == community_id)
        return int(await self.session.scalar(query) or 0)

    async def tags(self, member_id: int) -> list[str]:
        return list(
            (
                await self.session.scalars(
                    select(MemberTag.tag).where(MemberTag.member_id == member_id)
                )
            ).all()
        )

    async def add_tag(self, member_id: int, tag: str) -> None:
        await self.session.execute(
            dialect_insert(self.session, MemberTag)
            .values(member_id=member_id, tag=tag)
            .on_conflict_do_nothing()
        )

    async def remove_tag(self, member_id: int, tag: str) -> None:
        await self.session.execute(
            delete(MemberTag).where(MemberTag.member_id == member_id, MemberTag.tag == tag)
        )

    async def merge(self, from_id: int, into_id: int) -> None:
        """`from_id` is the same person as `into_id`: its accounts and tags move over,
        the higher role and the earlier dates are kept, and `from_id` is removed.
        Features have moved their own rows first (their `merge_member_data`)."""
        source, target = await self.get(from_id), await self.get(into_id)
        if source is None or target is None or source.community_id != target.community_id:
            raise ValueError(f"members {from_id} and {into_id} are not of one community")
        rank = {"member": 0, "moderator": 1, "owner": 2}
        if rank.get(source.role, 0) > rank.get(target.role, 0):
            target.role = source.role
        target.first_seen_at = min(target.first_seen_at, source.first_seen_at)
        if source.joined_at is not None and (
            target.joined_at is None or source.joined_at < target.joined_at
        ):
            target.joined_at = source.joined_at
        # Still here on either account: still here.
        if source.left_at is None or target.left_at is None:
            target.left_at = None
        else:
            target.left_at = max(source.left_at, target.left_at)
        target.is_bot = target.is_bot and source.is_bot
        for tag in await self.tags(from_id):
            await self.add_tag(into_id, tag)
        await self.session.execute(
            update(Identity).where(Identity.member_id == from_id).values(member_id=into_id)
        )
        await self.session.flush()
        await self.delete(from_id)

    async def lock(self, member_ids: Iterable[int]) -> None:
        """Hold these members' rows until the commit (PostgreSQL: FOR UPDATE; SQLite
        has one writer anyway): a merge and a concurrent write of their counters
        happen one after the other."""
        await self.session.execute(
            select(Member.id).where(Member.id.in_(list(member_ids))).with_for_update()
        )

    async def add_identity(
        self, member_id: int, community_id: int, platform: str, user_id: str
    ) -> None:
        """Another account of a member (linked before it was ever seen here)."""
        self.session.add(
            Identity(
                member_id=member_id, community_id=community_id, platform=platform, user_id=user_id
            )
        )
        await self.session.flush()

    async def split(self, member_id: int, platform: str, user_id: str, now: datetime) -> Member:
        """One account of a member becomes a member of its own, from `now` on: a new
        member row (role member), the account moved to it. The past stays."""
        source = await self.get(member_id)
        if source is None:
            raise ValueError(f"no member {member_id}")
        member = Member(
            community_id=source.community_id,
            display_name=source.display_name,
            role="member",
            is_bot=source.is_bot,
            first_seen_at=now,
            joined_at=None,
            left_at=source.left_at,
        )
        self.session.add(member)
        await self.session.flush()
        await self.session.execute(
            update(Identity)
            .where(
                Identity.member_id == member_id,
                Identity.platform == platform,
                Identity.user_id == user_id,
            )
            .values(member_id=member.id)
        )
        return member

    async def delete(self, member_id: int) -> None:
        """Remove the member and, by cascade, their identities and core rows."""
        await self.session.execute(delete(MemberTag).where(MemberTag.member_id == member_id))
        await self.session.execute(delete(Identity).where(Identity.member_id == member_id))
        await self.session.execute(delete(Member).where(Member.id == member_id))


class Pending(_Repo):
    """Private messages waiting for a member to open a chat with the bot."""

    async def add(
        self, platform: str, user_id: str, message: dict[str, Any], now: datetime
    ) -> None:
        self.session.add(
            PendingDirect(platform=platform, user_id=user_id, message=message, created_at=now)
        )

    async def take(self, platform: str, user_id: str, since: datetime) -> list[dict[str, Any]]:
        """The waiting messages newer than `since`, oldest first; all are removed."""
        where = (PendingDirect.platform == platform, PendingDirect.user_id == user_id)
        rows = (
            await self.session.scalars(
                select(PendingDirect).where(*where).order_by(PendingDirect.id)
            )
        ).all()
        await self.session.execute(delete(PendingDirect).where(*where))
        return [row.message for row in rows if row.created_at >= since]


class Settings(_Repo):
    async def all(self) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        for row in (await self.session.scalars(select(CommunitySetting))).all():
            out.setdefault(row.community_id, {})[row.key] = row.value
        return out

    async def of(self, community_id: int) -> dict[str, Any]:
        rows = await self.session.scalars(
            select(CommunitySetting).where(CommunitySetting.community_id == community_id)
        )
        return {row.key: row.value for row in rows}

    async def set(self, community_id: int, key: str, value: Any) -> None:
        stmt = dialect_insert(self.session, CommunitySetting).values(
            community_id=community_id, key=key, value=value
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["community_id", "key"], set_={"value": stmt.excluded.value}
            )
        )

    async def with_key(self, key: str) -> dict[int, Any]:
        """Every community's value of one key."""
        rows = await self.session.scalars(
            select(CommunitySetting).where(CommunitySetting.key == key)
        )
        return {row.community_id: row.value for row in rows}

    async def reset(self, community_id: int, key: str) -> None:
        await self.session.execute(
            delete(CommunitySetting).where(
                CommunitySetting.community_id == community_id, CommunitySetting.key == key
            )
        )


class Jobs(_Repo):
    async def schedule(
        self,
        job: str,
        key: str,
        *,
        community_id: int | None,
        run_at: datetime | None = None,
        cron: dict[str, Any] | None = None,
        timezone: str = "UTC",
        payload: dict[str, Any] | None = None,
        not_before: datetime | None = None,
    ) -> None:
        """Create or replace the schedule of (job, key). A recurring schedule passes
        `not_before` (now): no occurrence before it counts as missed."""
        values = {
            "job": job,
            "key": key,
            "community_id": community_id,
            "run_at": run_at,
            "cron": cron,
            "timezone": timezone,
            "payload": payload or {},
            "last_run_for": not_before,
        }
        stmt = dialect_insert(self.session, JobSchedule).values(**values)
        columns = ["community_id", "run_at", "cron", "timezone", "payload"]
        if not_before is not None:
            columns.append("last_run_for")
        changed = {k: stmt.excluded[k] for k in columns}
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=["job", "key"], set_=changed)
        )

    async def unschedule(self, job: str, key: str) -> None:
        await self.session.execute(
            delete(JobSchedule).where(JobSchedule.job == job, JobSchedule.key == key)
        )

    async def get(self, job: str, key: str) -> JobSchedule | None:
        return await self.session.scalar(
            select(JobSchedule).where(JobSchedule.job == job, JobSchedule.key == key)
        )

    async def all(self) -> Sequence[JobSchedule]:
        return (await self.session.scalars(select(JobSchedule).order_by(JobSchedule.id))).all()

    async def claim(
        self, job: str, key: str, scheduled_for: datetime, now: datetime, by: str
    ) -> bool:
        """Insert the run's claim; False when another process (or run) already has it."""
        result = await self.session.execute(
            dialect_insert(self.session, JobRun)
            .values(job=job, key=key, scheduled_for=scheduled_for, claimed_at=now, claimed_by=by)
            .on_conflict_do_nothing()
        )
        return bool(getattr(result, "rowcount", 0))

    async def was_claimed(self, job: str, key: str, scheduled_for: datetime) -> bool:
        return (
            await self.session.scalar(
                select(func.count())
                .select_from(JobRun)
                .where(JobRun.job == job, JobRun.key == key, JobRun.scheduled_for == scheduled_for)
            )
            or 0
        ) > 0

    async def ran(self, job: str, key: str, scheduled_for: datetime, *, once: bool) -> None:
        """Record a finished run: a one-off schedule is removed, a recurring one advances."""
        if once:
            await self.unschedule(job, key)
        else:
            await self.session.execute(
                update(JobSchedule)
                .where(JobSchedule.job == job, JobSchedule.key == key)
                .values(last_run_for=scheduled_for)
            )


__all__ = [
    "Communities",
    "IdentityRow",
    "Jobs",
    "Members",
    "Settings",
    "Spaces",
]
