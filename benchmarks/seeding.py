"""The community every ingest benchmark starts from: one community, one space, and
`members` members with an identity each, written with executemany in chunks (so the
seeding costs little memory of its own)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database
from storage.migrate import upgrade
from storage.models import Community, Identity, Member, Space


async def seed_community(
    url: str,
    *,
    platform: str,
    space_id: str,
    members: int,
    user_id: Callable[[int], str],
    now: datetime,
) -> None:
    db = Database(url)
    await upgrade(db)
    async with db.session() as session:
        await session.execute(
            insert(Community),
            [
                {
                    "id": 1,
                    "name": "Bench",
                    "timezone": "Europe/Berlin",
                    "locale": "en",
                    "created_at": now,
                }
            ],
        )
        await session.execute(
            insert(Space),
            [
                {
                    "platform": platform,
                    "external_id": space_id,
                    "title": "Bench",
                    "community_id": 1,
                    "added_at": now,
                    "active": True,
                }
            ],
        )
        for start in range(1, members + 1, 10_000):
            ids = range(start, min(start + 10_000, members + 1))
            await add_members(session, ids, now, lambda i: (platform, user_id(i), space_id))
        await session.commit()
    await db.dispose()


async def add_members(
    session: AsyncSession,
    ids: range,
    at: datetime,
    account: Callable[[int], tuple[str, str, str]],
) -> None:
    """Members `ids` of community 1, each with one account: `account(i)` gives its
    platform, user id and space."""
    await session.execute(
        insert(Member),
        [
            {
                "id": i,
                "community_id": 1,
                "display_name": f"m{i}",
                "role": "member",
                "is_bot": False,
                "first_seen_at": at,
                "joined_at": at,
                "left_at": None,
            }
            for i in ids
        ],
    )
    accounts = [(i, *account(i)) for i in ids]
    await session.execute(
        insert(Identity),
        [
            {
                "member_id": i,
                "community_id": 1,
                "platform": platform,
                "user_id": user_id,
                "space_external_id": space_id,
            }
            for i, platform, user_id, space_id in accounts
        ],
    )
