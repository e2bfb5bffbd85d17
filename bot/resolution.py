"""Who and where an event is about: the community of its space (in a private chat, the
one it concerns) and the member behind the account that acted, from the in-memory
index or, when the index does not know them, from storage (created on first sight).

The dispatcher resolves every event through here; nothing here decides what happens
next."""

from __future__ import annotations

from bot.context import unscope
from bot.directory import CommunityInfo, Directory, MemberRef
from bot.events import ButtonPressed, Event
from bot.services import Services
from storage.models import Member
from storage.unit_of_work import UnitOfWork


def community_of(directory: Directory, event: Event) -> CommunityInfo | None:
    """The community an event belongs to: its space's, or, in a private chat, the one
    a button names (then the chat is about it from now on) or the person's."""
    if event.space_id:
        return directory.community_of(event.platform, event.space_id)
    if event.actor is None:
        return None
    if isinstance(event, ButtonPressed):
        # A private chat: a button says which community it is about.
        _, scope = unscope(event.action_id)
        community = directory.communities.get(scope) if scope is not None else None
        if community is not None:
            directory.focus(event.platform, event.actor.user_id, community.id)
            return community
    return directory.private_community(event.platform, event.actor.user_id)


async def find_member(
    services: Services, community: CommunityInfo, platform: str, user_id: str
) -> MemberRef | None:
    """The member behind an account, from the index or storage; never created."""
    directory = services.directory
    ref = directory.member(community.id, platform, user_id)
    if ref is not None:
        return ref
    async with UnitOfWork(services.db) as uow:
        row = await uow.members.find(community.id, platform, user_id)
    if row is None:
        return None
    return _indexed(directory, community, platform, user_id, row)


async def ensure_member(
    services: Services,
    community: CommunityInfo,
    platform: str,
    user_id: str,
    display_name: str,
    *,
    is_bot: bool = False,
    space_id: str | None = None,
    role: str = "member",
) -> MemberRef:
    """The member behind an account, created on first sight (one short transaction)."""
    directory = services.directory
    ref = directory.member(community.id, platform, user_id)
    if ref is not None:
        return ref
    # Not in the index: nearly always new. Insert first; only if another process
    # created the account meanwhile (a unique conflict) look it up.
    async with UnitOfWork(services.db) as uow:
        row = await uow.members.add_new(
            community.id,
            platform,
            user_id,
            display_name,
            services.clock.now(),
            is_bot=is_bot,
            role=role,
            space_external_id=space_id or None,
        )
        if row is not None:
            await uow.commit()
    if row is None:
        async with UnitOfWork(services.db) as uow:
            row = await uow.members.find(community.id, platform, user_id)
        if row is None:
            raise RuntimeError(f"member {platform}:{user_id} neither new nor found")
    return _indexed(directory, community, platform, user_id, row)


def _indexed(
    directory: Directory, community: CommunityInfo, platform: str, user_id: str, row: Member
) -> MemberRef:
    """The stored member `row`, in the index. Another task may have resolved the same
    account meanwhile: the first one indexed is kept."""
    existing = directory.member(community.id, platform, user_id)
    if existing is not None:
        return existing
    return directory.add_member(
        MemberRef(row.id, community.id, platform, user_id, row.display_name, row.role)
    )
