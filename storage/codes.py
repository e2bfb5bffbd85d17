"""One-time codes: short codes that prove something once, within minutes.

One table for every kind: `link` (a member links another of their accounts, bot
features linking), `space` (another server or group joins a community, /spaces link).
A code is claimed atomically (`claim`: one UPDATE that only an unused, unexpired row
matches), so two presses of the same code never both win, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Index, String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

# No 0/O, 1/I: read aloud or typed from a phone without doubt.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# Used and expired codes are kept this long (to say "used" or "expired", not "wrong").
KEPT = timedelta(days=1)


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normal_code(text: str) -> str:
    """A code as typed (any case, spaces, with or without the dash) in its stored form."""
    raw = "".join(c for c in text.upper() if c.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else raw


class OneTimeCode(Base):
    __tablename__ = "one_time_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    # Who asked for it (None: not a member's, e.g. a space code).
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


Index("ix_one_time_code_community", OneTimeCode.community_id, OneTimeCode.kind)


@dataclass(frozen=True, slots=True)
class CodeRow:
    code: str
    kind: str
    community_id: int
    member_id: int | None
    expires_at: datetime
    used_at: datetime | None


def _row(found: OneTimeCode) -> CodeRow:
    return CodeRow(
        found.code,
        found.kind,
        found.community_id,
        found.member_id,
        found.expires_at,
        found.used_at,
    )


class Codes:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def issue(
        self,
        kind: str,
        community_id: int,
        member_id: int | None,
        now: datetime,
        valid: timedelta,
    ) -> str:
        """A new code; rows long expired are removed on the way."""
        await self.session.execute(delete(OneTimeCode).where(OneTimeCode.expires_at < now - KEPT))
        for _ in range(5):
            code = new_code()
            try:
                async with self.session.begin_nested():
                    self.session.add(
                        OneTimeCode(
                            code=code,
                            kind=kind,
                            community_id=community_id,
                            member_id=member_id,
                            created_at=now,
                            expires_at=now + valid,
                            used_at=None,
                        )
                    )
            except IntegrityError:  # 32^8 codes: a clash is rare; draw again
                continue
            return code
        raise RuntimeError("could not draw a free one-time code")

    async def find(self, kind: str, code: str) -> CodeRow | None:
        found = await self.session.scalar(
            select(OneTimeCode).where(OneTimeCode.kind == kind, OneTimeCode.code == code)
        )
        return _row(found) if found is not None else None

    async def claim(self, kind: str, code: str, now: datetime) -> bool:
        """Use the code, if it is still unused and valid. Atomic: of two claims of one
        code, one wins (the other's UPDATE matches no row once the first committed)."""
        result = await self.session.execute(
            update(OneTimeCode)
            .where(
                OneTimeCode.kind == kind,
                OneTimeCode.code == code,
                OneTimeCode.used_at.is_(None),
                OneTimeCode.expires_at > now,
            )
            .values(used_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def issued_since(self, kind: str, member_id: int, since: datetime) -> list[datetime]:
        """When a member was given codes of a kind since `since` (oldest first)."""
        rows = await self.session.scalars(
            select(OneTimeCode.created_at)
            .where(
                OneTimeCode.kind == kind,
                OneTimeCode.member_id == member_id,
                OneTimeCode.created_at >= since,
            )
            .order_by(OneTimeCode.created_at)
        )
        return list(rows.all())

    async def withdraw(self, kind: str, community_id: int, now: datetime) -> None:
        """The community's unused codes of a kind stop working (a new one replaces them)."""
        await self.session.execute(
            update(OneTimeCode)
            .where(
                OneTimeCode.kind == kind,
                OneTimeCode.community_id == community_id,
                OneTimeCode.used_at.is_(None),
            )
            .values(expires_at=now)
        )

    async def delete_member(self, member_id: int) -> None:
        await self.session.execute(delete(OneTimeCode).where(OneTimeCode.member_id == member_id))

    async def repoint(self, from_id: int, into_id: int) -> None:
        await self.session.execute(
            update(OneTimeCode).where(OneTimeCode.member_id == from_id).values(member_id=into_id)
        )

    async def of_member(self, member_id: int) -> list[dict[str, Any]]:
        rows = await self.session.scalars(
            select(OneTimeCode).where(OneTimeCode.member_id == member_id).order_by(OneTimeCode.id)
        )
        return [
            {
                "kind": r.kind,
                "created_at": r.created_at.isoformat(),
                "expires_at": r.expires_at.isoformat(),
                "used_at": r.used_at.isoformat() if r.used_at else None,
            }
            for r in rows
        ]
