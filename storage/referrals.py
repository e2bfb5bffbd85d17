"""Referrals' tables and their repository.

- `referral_invite`: invites whose maker we know, by code (normal form,
  bot/invites.py): members' personal links made by `/invite` (`personal`), and
  invites members made on the platform themselves (`InviteCreated`).
- `referral`: one row per newcomer (a rejoin never makes a second): how they came in
  (code, inviter, confidence, the candidate codes of an ambiguous join) and where the
  referral stands (`pending`, `qualified`, `lapsed`). `member_id` is None once the
  newcomer asked to be forgotten, `inviter_id` None once the inviter did
  (`inviter_forgotten`): the counts stay, anonymised.
- `referral_window`: Discord joins the counts could not tell apart (made `ambiguous`
  together, one 10-second window): how many times each invite was used in it, so
  that an owner's decision for one can settle the others (bot/features/referrals/
  chains.py). `counted` is False when a join racing through several invites came in
  the window too: its use could be any of theirs, so the counts settle nothing.
- `ambassador`: a member's level, the weeks of the last year they took part in (as
  referrals learns of them) and the level at the last monthly review.

Build the repository in a handler as `ctx.uow.repo(ReferralsRepo)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.repositories import dialect_insert

PENDING, QUALIFIED, LAPSED = "pending", "qualified", "lapsed"
# Several invites could explain the join and every one of them was made by the same
# member: whichever was used, that member brought them.
SAME_MAKER = "same_maker"


class ReferralInvite(Base):
    __tablename__ = "referral_invite"
    __table_args__ = (
        UniqueConstraint("community_id", "platform", "code"),
        Index("ix_referral_invite_member", "member_id", "platform"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(16))
    space_id: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(200))
    personal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


class Referral(Base):
    __tablename__ = "referral"
    __table_args__ = (
        UniqueConstraint("community_id", "member_id"),
        Index("ix_referral_inviter", "inviter_id"),
        Index("ix_referral_joined", "community_id", "joined_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(64))
    inviter_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    inviter_forgotten: Mapped[bool] = mapped_column(default=False)
    confidence: Mapped[str] = mapped_column(String(10))
    candidates: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    # A Discord account younger than `referrals.min_account_age`: never qualifies by itself.
    flagged: Mapped[bool] = mapped_column(default=False)
    joined_at: Mapped[datetime]
    took_part_at: Mapped[datetime | None]
    qualified_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]  # an owner credited an ambiguous join
    window_id: Mapped[int | None] = mapped_column(
        ForeignKey("referral_window.id", ondelete="SET NULL"), index=True
    )


class ReferralWindow(Base):
    __tablename__ = "referral_window"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    # Invite code -> how many joins in the window the counts gave it to.
    uses: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    counted: Mapped[bool] = mapped_column(default=True)


class Ambassador(Base):
    __tablename__ = "ambassador"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[int] = mapped_column(Integer, default=0)
    # The level at the last monthly review (movement in /ambassadors).
    reviewed_level: Mapped[int] = mapped_column(Integer, default=0)
    # The weeks they took part in, within the last year: their Mondays, ISO dates.
    weeks: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Replies to newcomers in their first two weeks.
    helped: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime | None]


class ReferralsRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- invites ---

    async def personal_link(
        self, community_id: int, member_id: int, platform: str, space_id: str
    ) -> ReferralInvite | None:
        return (
            await self.session.scalars(
                select(ReferralInvite).where(
                    ReferralInvite.community_id == community_id,
                    ReferralInvite.member_id == member_id,
                    ReferralInvite.platform == platform,
                    ReferralInvite.space_id == space_id,
                    ReferralInvite.personal.is_(True),
                )
            )
        ).first()

    async def personal_links(self, community_id: int, platform: str) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).where(
                    ReferralInvite.community_id == community_id,
                    ReferralInvite.platform == platform,
                    ReferralInvite.personal.is_(True),
                )
            )
            or 0
        )

    async def add_invite(
        self,
        community_id: int,
        member_id: int | None,
        platform: str,
        space_id: str,
        code: str,
        url: str | None,
        *,
        personal: bool,
        at: datetime,
    ) -> None:
        found = await self.invite(community_id, platform, code)
        if found is not None:
            found.member_id = member_id if member_id is not None else found.member_id
            found.personal = found.personal or personal
            found.url = url or found.url
            return
        self.session.add(
            ReferralInvite(
                community_id=community_id,
                member_id=member_id,
                platform=platform,
                space_id=space_id,
                code=code,
                url=url,
                personal=personal,
                created_at=at,
            )
        )
        await self.session.flush()

    async def invite(self, community_id: int, platform: str, code: str) -> ReferralInvite | None:
        return (
            await self.session.scalars(
                select(ReferralInvite).where(
                    ReferralInvite.community_id == community_id,
                    ReferralInvite.platform == platform,
                    ReferralInvite.code == code,
                )
            )
        ).first()

    async def makers(
        self, community_id: int, platform: str, codes: Sequence[str]
    ) -> dict[str, int]:
        """The member who made each of `codes`, where known."""
        rows = await self.session.execute(
            select(ReferralInvite.code, ReferralInvite.member_id).where(
                ReferralInvite.community_id == community_id,
                ReferralInvite.platform == platform,
                ReferralInvite.code.in_(list(codes)),
                ReferralInvite.member_id.is_not(None),
            )
        )
        return {code: member for code, member in rows.all() if member is not None}

    # --- referrals ---

    async def of_member(self, community_id: int, member_id: int) -> Referral | None:
        return (
            await self.session.scalars(
                select(Referral).where(
                    Referral.community_id == community_id, Referral.member_id == member_id
                )
            )
        ).first()

    async def get(self, referral_id: int) -> Referral | None:
        return await self.session.get(Referral, referral_id)

    async def arrive(self, **values: Any) -> int | None:
        """Store a newcomer's arrival; its id, or None if they arrived before (a
        rejoin: one statement either way)."""
        stmt = (
            dialect_insert(self.session, Referral)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["community_id", "member_id"])
            .returning(Referral.id)
        )
        return (await self.session.execute(stmt)).scalar()

    def _creditable(self, community_id: int) -> Any:
        """Pending referrals someone is (or may be) credited for, still here, unflagged."""
        return (
            (Referral.community_id == community_id)
            & (Referral.status == PENDING)
            & (Referral.inviter_id.is_not(None) | (Referral.confidence == "ambiguous"))
            & Referral.flagged.is_(False)
            & Referral.left_at.is_(None)
        )

    async def due(self, community_id: int, joined_before: datetime) -> Sequence[Referral]:
        """Pending referrals that have stayed long enough (joined before the time)."""
        return (
            await self.session.scalars(
                select(Referral).where(
                    self._creditable(community_id), Referral.joined_at <= joined_before
                )
            )
        ).all()

    async def next_joined(self, community_id: int, after: datetime) -> datetime | None:
        """When the first pending referral that is not yet due joined."""
        return await self.session.scalar(
            select(func.min(Referral.joined_at)).where(
                self._creditable(community_id), Referral.joined_at > after
            )
        )

    async def undecide(
        self, referral_ids: Sequence[int], codes: Sequence[str]
    ) -> tuple[list[tuple[str, int]], list[int]]:
        """These joins may have come through `codes`: nobody is credited for them. The
        code and inviter of each that was credited through one (its maker), and the
        members of those that named someone (`exact`, `creator`, `same_maker`): named
        no more."""
        rows = (
            await self.session.scalars(select(Referral).where(Referral.id.in_(list(referral_ids))))
        ).all()
        made: list[tuple[str, int]] = []
        withdrawn: list[int] = []
        for r in rows:
            if r.decided_at is not None:
                continue
            if r.code is not None and r.inviter_id is not None:
                made.append((r.code, r.inviter_id))
            if r.confidence in ("exact", "creator", SAME_MAKER) and r.member_id is not None:
                withdrawn.append(r.member_id)
            known = set(r.candidates or ()) | ({r.code} if r.code else set())
            r.candidates = sorted(known | set(codes))
            r.confidence, r.code, r.inviter_id = "ambiguous", None, None
        return made, withdrawn

    async def window_together(
        self,
        community_id: int,
        joins: Sequence[tuple[int | None, str | None]],
        *,
        counted: bool,
    ) -> None:
        """These joins were made ambiguous together: one window with theirs (those they
        were in already, merged). `joins`: each one's referral (None: a rejoin, which
        has no row) and the code the counts gave it (None: none), one use of it."""
        ids = [rid for rid, _ in joins if rid is not None]
        rows = {
            r.id: r
            for r in (
                await self.session.scalars(select(Referral).where(Referral.id.in_(ids)))
            ).all()
        }
        old = {r.window_id for r in rows.values() if r.window_id is not None}
        merged = (
            await self.session.scalars(select(ReferralWindow).where(ReferralWindow.id.in_(old)))
        ).all()
        uses: dict[str, int] = {}
        for w in merged:
            counted = counted and w.counted
            for made, n in w.uses.items():
                uses[made] = uses.get(made, 0) + n
        for rid, code in joins:
            # A use counted already in the window its join is in is not counted again.
            row = rows.get(rid) if rid is not None else None
            if code is not None and (row is None or row.window_id is None):
                uses[code] = uses.get(code, 0) + 1
        window = ReferralWindow(community_id=community_id, uses=uses, counted=counted)
        self.session.add(window)
        await self.session.flush()
        if old:
            await self.session.execute(
                update(Referral).where(Referral.window_id.in_(old)).values(window_id=window.id)
            )
        for r in rows.values():
            r.window_id = window.id
        for w in merged:
            await self.session.delete(w)
        await self.session.flush()

    async def uncount_windows(self, referral_ids: Sequence[int]) -> None:
        """A join that several invites moved for came beside these: their windows'
        counts no longer settle anything."""
        ids = select(Referral.window_id).where(Referral.id.in_(list(referral_ids)))
        await self.session.execute(
            update(ReferralWindow).where(ReferralWindow.id.in_(ids)).values(counted=False)
        )

    async def window(self, window_id: int) -> tuple[ReferralWindow | None, Sequence[Referral]]:
        """A window and its joins."""
        rows = (
            await self.session.scalars(
                select(Referral).where(Referral.window_id == window_id).order_by(Referral.id)
            )
        ).all()
        return await self.session.get(ReferralWindow, window_id), rows

    async def awaiting_part(self) -> list[int]:
        """Newcomers with a pending referral who have not taken part yet."""
        rows = await self.session.scalars(
            select(Referral.member_id).where(
                Referral.status == PENDING,
                Referral.took_part_at.is_(None),
                Referral.member_id.is_not(None),
            )
        )
        return [m for m in rows.all() if m is not None]

    async def inviters(self) -> list[int]:
        """Members someone is credited to."""
        rows = await self.session.scalars(
            select(Referral.inviter_id).where(Referral.inviter_id.is_not(None)).distinct()
        )
        return [m for m in rows.all() if m is not None]

    async def recent_newcomers(self, since: datetime) -> list[tuple[int, datetime]]:
        """Members who joined since `since` (their first join), with when."""
        rows = await self.session.execute(
            select(Referral.member_id, Referral.joined_at).where(
                Referral.joined_at >= since, Referral.member_id.is_not(None)
            )
        )
        return [(m, at) for m, at in rows.all() if m is not None]

    async def brought_by(self, inviter_ids: Sequence[int]) -> Sequence[Referral]:
        if not inviter_ids:
            return []
        return (
            await self.session.scalars(
                select(Referral)
                .where(Referral.inviter_id.in_(list(inviter_ids)))
                .order_by(Referral.joined_at, Referral.id)
            )
        ).all()

    async def qualified_count(self, inviter_id: int) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).where(
                    Referral.inviter_id == inviter_id, Referral.status == QUALIFIED
                )
            )
            or 0
        )

    async def undecided(self, community_id: int) -> Sequence[Referral]:
        return (
            await self.session.scalars(
                select(Referral)
                .where(
                    Referral.community_id == community_id,
                    Referral.confidence == "ambiguous",
                    Referral.inviter_id.is_(None),
                    Referral.decided_at.is_(None),
                    Referral.member_id.is_not(None),
                )
                .order_by(Referral.joined_at)
            )
        ).all()

    async def flagged(self, community_id: int) -> Sequence[Referral]:
        """Pending referrals of young accounts, waiting for an owner."""
        return (
            await self.session.scalars(
                select(Referral)
                .where(
                    Referral.community_id == community_id,
                    Referral.flagged.is_(True),
                    Referral.status == PENDING,
                    Referral.member_id.is_not(None),
                )
                .order_by(Referral.joined_at)
            )
        ).all()

    async def in_community(self, community_id: int) -> Sequence[Referral]:
        return (
            await self.session.scalars(
                select(Referral)
                .where(Referral.community_id == community_id)
                .order_by(Referral.joined_at, Referral.id)
            )
        ).all()

    async def joined_between(
        self, community_id: int, since: datetime, until: datetime
    ) -> Sequence[Referral]:
        return (
            await self.session.scalars(
                select(Referral).where(
                    Referral.community_id == community_id,
                    Referral.joined_at >= since,
                    Referral.joined_at < until,
                )
            )
        ).all()

    async def qualified_between(
        self, community_id: int, since: datetime, until: datetime
    ) -> Sequence[Referral]:
        return (
            await self.session.scalars(
                select(Referral).where(
                    Referral.community_id == community_id,
                    Referral.qualified_at >= since,
                    Referral.qualified_at < until,
                )
            )
        ).all()

    # --- ambassadors ---

    async def ambassador(self, community_id: int, member_id: int) -> Ambassador:
        found = await self.session.get(Ambassador, member_id)
        if found is None:
            found = Ambassador(
                member_id=member_id,
                community_id=community_id,
                level=0,
                reviewed_level=0,
                weeks=[],
                helped=0,
            )
            self.session.add(found)
            await self.session.flush()
        return found

    async def find_ambassador(self, member_id: int) -> Ambassador | None:
        return await self.session.get(Ambassador, member_id)

    async def ambassadors(self, community_id: int) -> Sequence[Ambassador]:
        return (
            await self.session.scalars(
                select(Ambassador)
                .where(
                    Ambassador.community_id == community_id,
                    (Ambassador.level > 0) | (Ambassador.reviewed_level > 0),
                )
                .order_by(Ambassador.level.desc(), Ambassador.member_id)
            )
        ).all()

    async def qualified_counts(self, community_id: int) -> dict[int, int]:
        rows = await self.session.execute(
            select(Referral.inviter_id, func.count())
            .where(
                Referral.community_id == community_id,
                Referral.status == QUALIFIED,
                Referral.inviter_id.is_not(None),
            )
            .group_by(Referral.inviter_id)
        )
        return {i: int(n) for i, n in rows.all() if i is not None}

    # --- personal data ---

    async def forget(self, member_id: int) -> None:
        """The member's own rows go; the referrals they made stay, anonymised, and so
        does the count of their own arrival (without them)."""
        await self.session.execute(
            update(Referral)
            .where(Referral.inviter_id == member_id)
            .values(inviter_id=None, inviter_forgotten=True)
        )
        await self.session.execute(
            update(Referral)
            .where(Referral.member_id == member_id)
            .values(member_id=None, code=None, candidates=[], took_part_at=None)
        )
        await self.session.execute(
            delete(ReferralInvite).where(ReferralInvite.member_id == member_id)
        )
        await self.session.execute(delete(Ambassador).where(Ambassador.member_id == member_id))

    async def merge(self, from_id: int, into_id: int) -> None:
        """Two members are one person: their invites and the people they brought are
        one; of their two arrivals the earlier is kept; levels: the higher."""
        session = self.session
        await session.execute(
            update(ReferralInvite)
            .where(ReferralInvite.member_id == from_id)
            .values(member_id=into_id)
        )
        await session.execute(
            update(Referral).where(Referral.inviter_id == from_id).values(inviter_id=into_id)
        )
        # Nobody brought themselves.
        await session.execute(
            update(Referral)
            .where(Referral.member_id == into_id, Referral.inviter_id == into_id)
            .values(inviter_id=None)
        )
        mine = (
            await session.scalars(select(Referral).where(Referral.member_id == from_id))
        ).first()
        theirs = (
            await session.scalars(select(Referral).where(Referral.member_id == into_id))
        ).first()
        if mine is not None:
            if theirs is None or mine.joined_at < theirs.joined_at:
                if theirs is not None:
                    await session.delete(theirs)
                    await session.flush()
                mine.member_id = into_id
                if mine.inviter_id == into_id:
                    mine.inviter_id = None
            else:
                await session.delete(mine)
        a = await session.get(Ambassador, from_id)
        if a is not None:
            b = await session.get(Ambassador, into_id)
            if b is None:
                await session.execute(
                    update(Ambassador)
                    .where(Ambassador.member_id == from_id)
                    .values(member_id=into_id)
                )
            else:
                b.level = max(a.level, b.level)
                b.reviewed_level = max(a.reviewed_level, b.reviewed_level)
                b.weeks = sorted(set(a.weeks) | set(b.weeks))
                b.helped += a.helped
                await session.delete(a)
        await session.flush()
