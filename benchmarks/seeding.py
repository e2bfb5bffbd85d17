"""The community every ingest benchmark starts from: one community, one space, and
`members` members with an identity each, written with executemany in chunks (so the
seeding costs little memory of its own)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import insert

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
            await session.execute(
                insert(Member),
                [
                    {
                        "id": i,
                        "community_id": 1,
                        "display_name": f"m{i}",
                        "role": "member",
                        "is_bot": False,
                        "first_seen_at": now,
                        "joined_at": now,
                        "left_at": None,
                    }
                    for i in ids
                ],
            )
            await session.execute(
                insert(Identity),
                [
                    {
                        "member_id": i,
                        "community_id": 1,
                        "platform": platform,
                        "user_id": user_id(i),
                        "space_external_id": space_id,
                    }
                    for i in ids
                ],
            )
        await session.commit()
    await db.dispose()
