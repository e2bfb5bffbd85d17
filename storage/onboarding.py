"""Onboarding tables and their repository.

- `onboarding_question`: up to five owner-defined questions per community; `choices`
  is a JSON list of {"label": str, "target": str | None} (empty: a free-text question).
- `onboarding_state`: where one member is in onboarding (one row per member; a real
  rejoin resets it, except `nudged_at`: the nudge is sent once, ever).
- `onboarding_answer`: one answer (a choice, a text, or skipped) per member and question.

Build the repository in a handler as `OnboardingRepo(ctx.uow.session)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import ActivityDaily, Base
from storage.repositories import dialect_insert

MAX_QUESTIONS = 5


class OnboardingQuestion(Base):
    __tablename__ = "onboarding_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))
    choices: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]


class OnboardingState(Base):
    __tablename__ = "onboarding_state"
    __table_args__ = (Index("ix_onboarding_state_joined", "community_id", "joined_at"),)

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    space_id: Mapped[str] = mapped_column(String(64))
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    first_message_at: Mapped[datetime | None]
    nudged_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]
    # The gate applied: "role" (member role withheld), "restrict", or None.
    gate: Mapped[str | None] = mapped_column(String(8))
    # Joined during a surge: the private welcome waits for the surge to end.
    paused: Mapped[bool] = mapped_column(default=False)
    # `/onboarding test`: the owner playing the flow; never counted or stored.
    test: Mapped[bool] = mapped_column(default=False)
    asking_question_id: Mapped[int | None] = mapped_column(
        ForeignKey("onboarding_question.id", ondelete="SET NULL")
    )


class OnboardingAnswer(Base):
    __tablename__ = "onboarding_answer"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("onboarding_question.id", ondelete="CASCADE"), primary_key=True
    )
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    choice: Mapped[int | None]
    text: Mapped[str | None] = mapped_column(String(1000))
    skipped: Mapped[bool] = mapped_column(default=False)
    answered_at: Mapped[datetime]


def _progress(state: OnboardingState) -> tuple[bool, bool, bool, bool, bool]:
    """How far a member got: a real run beats the owner's test, then completed,
    answered, accepted, posted."""
    return (
        not state.test,
        state.completed_at is not None,
        state.answered_at is not None,
        state.accepted_at is not None,
        state.first_message_at is not None,
    )


@dataclass(frozen=True, slots=True)
class Funnel:
    joined: int = 0
    accepted: int = 0
    answered: int = 0
    posted: int = 0  # first message within 7 days of joining


class OnboardingRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- questions ---

    async def questions(self, community_id: int) -> Sequence[OnboardingQuestion]:
        return (
            await self.session.scalars(
                select(OnboardingQuestion)
                .where(OnboardingQuestion.community_id == community_id)
                .order_by(OnboardingQuestion.position, OnboardingQuestion.id)
            )
        ).all()

    async def question(self, question_id: int) -> OnboardingQuestion | None:
        return await self.session.get(OnboardingQuestion, question_id)

    async def add_question(
        self, community_id: int, text: str, choices: list[dict[str, Any]], now: datetime
    ) -> OnboardingQuestion:
        last = await self.session.scalar(
            select(func.max(OnboardingQuestion.position)).where(
                OnboardingQuestion.community_id == community_id
            )
        )
        row = OnboardingQuestion(
            community_id=community_id,
            position=(last or 0) + 1,
            text=text[:500],
            choices=choices,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def remove_question(self, question_id: int) -> None:
        await self.session.execute(
            update(OnboardingState)
            .where(OnboardingState.asking_question_id == question_id)
            .values(asking_question_id=None)
        )
        await self.session.execute(
            delete(OnboardingAnswer).where(OnboardingAnswer.question_id == question_id)
        )
        await self.session.execute(
            delete(OnboardingQuestion).where(OnboardingQuestion.id == question_id)
        )

    async def next_question(
        self, community_id: int, after: OnboardingQuestion | None
    ) -> OnboardingQuestion | None:
        query = select(OnboardingQuestion).where(OnboardingQuestion.community_id == community_id)
        if after is not None:
            query = query.where(
                (OnboardingQuestion.position > after.position)
                | (
                    (OnboardingQuestion.position == after.position)
                    & (OnboardingQuestion.id > after.id)
                )
            )
        return await self.session.scalar(
            query.order_by(OnboardingQuestion.position, OnboardingQuestion.id).limit(1)
        )

    # --- member state ---

    async def state(self, member_id: int) -> OnboardingState | None:
        return await self.session.get(OnboardingState, member_id)

    def add_state(self, state: OnboardingState) -> None:
        self.session.add(state)

    async def paused(self, community_id: int) -> Sequence[OnboardingState]:
        return (
            await self.session.scalars(
                select(OnboardingState).where(
                    OnboardingState.community_id == community_id,
                    OnboardingState.paused.is_(True),
                    OnboardingState.left_at.is_(None),
                    OnboardingState.accepted_at.is_(None),
                )
            )
        ).all()

    async def watching(self, since: datetime) -> list[int]:
        """Members who joined since `since`, are here and have not posted yet."""
        rows = await self.session.scalars(
            select(OnboardingState.member_id).where(
                OnboardingState.joined_at >= since,
                OnboardingState.first_message_at.is_(None),
                OnboardingState.left_at.is_(None),
                OnboardingState.test.is_(False),
            )
        )
        return list(rows)

    async def present(self) -> list[int]:
        """Members with an onboarding state who have not left (welcomed already)."""
        rows = await self.session.scalars(
            select(OnboardingState.member_id).where(
                OnboardingState.left_at.is_(None), OnboardingState.test.is_(False)
            )
        )
        return list(rows)

    async def left_since(self, since: datetime) -> list[tuple[int, datetime]]:
        """(member id, left at) of members who left at or after `since`."""
        rows = await self.session.execute(
            select(OnboardingState.member_id, OnboardingState.left_at).where(
                OnboardingState.left_at >= since, OnboardingState.test.is_(False)
            )
        )
        return [(member_id, left_at) for member_id, left_at in rows if left_at is not None]

    async def awaiting_text(self) -> list[int]:
        """Members whose current question wants a free-text answer."""
        rows = await self.session.execute(
            select(OnboardingState.member_id, OnboardingQuestion.choices).join(
                OnboardingQuestion, OnboardingQuestion.id == OnboardingState.asking_question_id
            )
        )
        return [member_id for member_id, choices in rows if not choices]

    async def posted_since(self, member_id: int, day: date) -> bool:
        """Engagement's daily counters show a message by the member on or after `day`."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(ActivityDaily.messages), 0)).where(
                ActivityDaily.member_id == member_id, ActivityDaily.day >= day
            )
        )
        return bool(total)

    # --- answers ---

    async def save_answer(
        self,
        community_id: int,
        member_id: int,
        question_id: int,
        now: datetime,
        *,
        choice: int | None = None,
        text: str | None = None,
        skipped: bool = False,
    ) -> None:
        values = {
            "community_id": community_id,
            "member_id": member_id,
            "question_id": question_id,
            "choice": choice,
            "text": text[:1000] if text is not None else None,
            "skipped": skipped,
            "answered_at": now,
        }
        stmt = dialect_insert(self.session, OnboardingAnswer).values(**values)
        changed = {k: stmt.excluded[k] for k in ("choice", "text", "skipped", "answered_at")}
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=["member_id", "question_id"], set_=changed)
        )

    async def answers(self, community_id: int) -> Sequence[OnboardingAnswer]:
        return (
            await self.session.scalars(
                select(OnboardingAnswer).where(OnboardingAnswer.community_id == community_id)
            )
        ).all()

    async def member_answers(self, member_id: int) -> Sequence[OnboardingAnswer]:
        return (
            await self.session.scalars(
                select(OnboardingAnswer)
                .where(OnboardingAnswer.member_id == member_id)
                .order_by(OnboardingAnswer.question_id)
            )
        ).all()

    # --- the funnel ---

    async def funnel(self, community_id: int, since: datetime, until: datetime) -> Funnel:
        """Members who joined in [since, until): how many accepted, answered at least one
        question, and posted within 7 days of joining."""
        s = OnboardingState
        rows = (
            await self.session.execute(
                select(s.joined_at, s.accepted_at, s.answered_at, s.first_message_at).where(
                    s.community_id == community_id,
                    s.test.is_(False),
                    s.joined_at >= since,
                    s.joined_at < until,
                )
            )
        ).all()
        return Funnel(
            joined=len(rows),
            accepted=sum(1 for r in rows if r.accepted_at is not None),
            answered=sum(1 for r in rows if r.answered_at is not None),
            posted=sum(
                1
                for r in rows
                if r.first_message_at is not None
                and r.first_message_at - r.joined_at <= timedelta(days=7)
            ),
        )

    # --- privacy ---

    async def merge_member(self, from_id: int, into_id: int) -> bool:
        """Two members are one person: the more advanced onboarding state is kept (as
        `into_id`'s), with the earliest first message of either; answers move over
        where `into_id` gave none (or skipped). True if `from_id`'s state won."""
        source, target = await self.state(from_id), await self.state(into_id)
        from_won = source is not None and (target is None or _progress(source) > _progress(target))
        if source is not None and target is not None:
            winner, loser = (source, target) if from_won else (target, source)
            firsts = [t for t in (source.first_message_at, target.first_message_at) if t]
            winner.first_message_at = min(firsts) if firsts else None
            if source.left_at is None or target.left_at is None:
                winner.left_at = None
            await self.session.delete(loser)
            await self.session.flush()
        if from_won:
            await self.session.execute(
                update(OnboardingState)
                .where(OnboardingState.member_id == from_id)
                .values(member_id=into_id)
            )
        kept = {a.question_id: a for a in await self.member_answers(into_id)}
        for answer in await self.member_answers(from_id):
            mine = kept.get(answer.question_id)
            if mine is not None:
                if not (mine.skipped and not answer.skipped):
                    continue  # theirs stays; this one goes below
                await self.session.delete(mine)  # an answer beats a skip
                await self.session.flush()
            await self.session.execute(
                update(OnboardingAnswer)
                .where(
                    OnboardingAnswer.member_id == from_id,
                    OnboardingAnswer.question_id == answer.question_id,
                )
                .values(member_id=into_id)
            )
        await self.session.execute(
            delete(OnboardingAnswer).where(OnboardingAnswer.member_id == from_id)
        )
        return from_won

    async def delete_member(self, member_id: int) -> None:
        await self.session.execute(
            delete(OnboardingAnswer).where(OnboardingAnswer.member_id == member_id)
        )
        await self.session.execute(
            delete(OnboardingState).where(OnboardingState.member_id == member_id)
        )
