"""The in-memory index of communities, spaces and members.

The hot path (every message) must not query the database to learn which community
a space belongs to or which member an account is: the index is loaded once at
start and kept current by the core after each commit that changes it. A miss
(a member never seen) falls back to the database once.

Several processes share one database: each keeps its own index; a member created
by another process is found on this one's first miss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.commands import Permission
from bot.feature import Setting

ROLE_PERMISSION = {
    "member": Permission.MEMBER,
    "moderator": Permission.MODERATOR,
    "owner": Permission.OWNER,
}


@dataclass(slots=True, eq=False)
class CommunityInfo:
    id: int
    name: str
    timezone: str
    locale: str
    settings: dict[str, Any] = field(default_factory=dict)
    spaces: set[tuple[str, str]] = field(default_factory=set)
    tz: ZoneInfo = field(init=False)
    # The local day containing the last event seen, as a UTC window, so that mapping an
    # event time to its local day costs two comparisons instead of a zone conversion.
    _day: date | None = field(default=None, init=False)
    _day_start: datetime = field(default=datetime.min.replace(tzinfo=UTC), init=False)
    _day_end: datetime = field(default=datetime.min.replace(tzinfo=UTC), init=False)
    # The same for the local hour.
    _hour: int = field(default=0, init=False)
    _hour_start: datetime = field(default=datetime.min.replace(tzinfo=UTC), init=False)
    _hour_end: datetime = field(default=datetime.min.replace(tzinfo=UTC), init=False)

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.timezone)

    def set_timezone(self, name: str) -> None:
        self.timezone, self.tz, self._day = name, ZoneInfo(name), None
        self._day_end = self._hour_end = datetime.min.replace(tzinfo=UTC)

    def local_day(self, at: datetime) -> date:
        if self._day_start <= at < self._day_end and self._day is not None:
            return self._day
        local = at.astimezone(self.tz)
        day = local.date()
        start = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        end = start + timedelta(days=1)
        self._day = day
        self._day_start = start.astimezone(UTC)
        self._day_end = datetime(end.year, end.month, end.day, tzinfo=self.tz).astimezone(UTC)
        return day

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)

    def local_hour(self, at: datetime) -> int:
        if self._hour_start <= at < self._hour_end:
            return self._hour
        local = at.astimezone(self.tz)
        # The local hour's start in UTC (fold-aware, so right on DST days), an hour long.
        start = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        self._hour, self._hour_start = local.hour, start
        self._hour_end = start + timedelta(hours=1)
        return self._hour


@dataclass(slots=True, eq=False)
class MemberRef:
    """A member as the hot path sees it: enough to count and to check permission."""

    id: int
    community_id: int
    platform: str
    user_id: str
    display_name: str
    role: str = "member"

    @property
    def permission(self) -> Permission:
        return ROLE_PERMISSION.get(self.role, Permission.MEMBER)


class Directory:
    def __init__(self, settings: dict[str, Setting]) -> None:
        self.setting_specs = settings
        self.communities: dict[int, CommunityInfo] = {}
        self.spaces: dict[tuple[str, str], int | None] = {}
        self.members: dict[tuple[int, str, str], MemberRef] = {}
        self.by_id: dict[int, MemberRef] = {}
        self.by_account: dict[tuple[str, str], set[int]] = {}
        self._staff: dict[int, set[int]] = {}  # community id -> owner/moderator ids

    # --- reads (the hot path) ---

    def community_of(self, platform: str, space_id: str) -> CommunityInfo | None:
        community_id = self.spaces.get((platform, space_id))
        return None if community_id is None else self.communities.get(community_id)

    def member(self, community_id: int, platform: str, user_id: str) -> MemberRef | None:
        return self.members.get((community_id, platform, user_id))

    def communities_of_account(self, platform: str, user_id: str) -> set[int]:
        return self.by_account.get((platform, user_id), set())

    def setting(self, community: CommunityInfo, key: str) -> Any:
        if key in community.settings:
            return community.settings[key]
        return self.setting_specs[key].default

    def staff(self, community_id: int, roles: tuple[str, ...] = ("owner",)) -> list[MemberRef]:
        refs = (self.by_id[i] for i in sorted(self._staff.get(community_id, ())))
        return [ref for ref in refs if ref.role in roles]

    # --- writes (after commit) ---

    def add_community(self, info: CommunityInfo) -> None:
        self.communities[info.id] = info

    def set_space(self, platform: str, space_id: str, community_id: int | None) -> None:
        old = self.spaces.get((platform, space_id))
        if old is not None and old in self.communities:
            self.communities[old].spaces.discard((platform, space_id))
        self.spaces[(platform, space_id)] = community_id
        if community_id is not None and community_id in self.communities:
            self.communities[community_id].spaces.add((platform, space_id))

    def forget_space(self, platform: str, space_id: str) -> None:
        self.set_space(platform, space_id, None)
        self.spaces.pop((platform, space_id), None)

    def add_member(self, ref: MemberRef) -> None:
        self.members[(ref.community_id, ref.platform, ref.user_id)] = ref
        self.by_id.setdefault(ref.id, ref)
        self.by_account.setdefault((ref.platform, ref.user_id), set()).add(ref.community_id)
        if ref.role != "member":
            self._staff.setdefault(ref.community_id, set()).add(ref.id)

    def remove_member(self, member_id: int) -> None:
        for key, ref in list(self.members.items()):
            if ref.id == member_id:
                del self.members[key]
                accounts = self.by_account.get((ref.platform, ref.user_id))
                if accounts is not None:
                    accounts.discard(ref.community_id)
        removed = self.by_id.pop(member_id, None)
        if removed is not None:
            self._staff.get(removed.community_id, set()).discard(member_id)

    def set_role(self, member_id: int, role: str) -> None:
        for ref in self.members.values():
            if ref.id == member_id:
                ref.role = role
        primary = self.by_id.get(member_id)
        if primary is not None:
            staff = self._staff.setdefault(primary.community_id, set())
            (staff.discard if role == "member" else staff.add)(member_id)
