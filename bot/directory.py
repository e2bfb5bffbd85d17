"""The in-memory index of communities, spaces and members.

The hot path (every message) must not query the database to learn which community
a space belongs to or which member an account is: the index is loaded once at
start and kept current by the core after each commit that changes it. A miss
(a member never seen) falls back to the database once.

Several processes share one database: each keeps its own index. A member created
by another process is found on this one's first miss; every other change (a
community, a setting, a role, a space, a merge) reaches the other processes through
bot/sync.py: the writes below note what they changed in `journal` while the core
applies a commit, and the other processes reload exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from bot.commands import Permission
from bot.feature import Setting

if TYPE_CHECKING:
    from bot.sync import Changes

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
        self._day, self._day_start, self._day_end = self.day_window(at)
        return self._day

    def day_window(self, at: datetime) -> tuple[date, datetime, datetime]:
        """The local day containing `at`, with its start and end in UTC (the end
        excluded). Touches no cache: for callers that keep their own window (the time
        now, next to `local_day`'s cache of event times)."""
        day = at.astimezone(self.tz).date()
        start = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        end = start + timedelta(days=1)
        return (
            day,
            start.astimezone(UTC),
            datetime(end.year, end.month, end.day, tzinfo=self.tz).astimezone(UTC),
        )

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


class Account(NamedTuple):
    """One platform account: a person may have several (a Discord and a Telegram one)."""

    platform: str
    user_id: str


@dataclass(slots=True, eq=False)
class MemberRef:
    """A member (a person in a community) as the hot path sees it: enough to count and
    to check permission. `platform`/`user_id` is the account they used last (where a
    private message goes first); `accounts` holds all of them."""

    id: int
    community_id: int
    platform: str
    user_id: str
    display_name: str
    role: str = "member"
    accounts: list[Account] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.accounts:
            self.accounts.append(Account(self.platform, self.user_id))

    @property
    def permission(self) -> Permission:
        return ROLE_PERMISSION.get(self.role, Permission.MEMBER)

    def account_on(self, platform: str) -> Account | None:
        """This person's account on a platform (the last used one first)."""
        if self.platform == platform:
            return Account(self.platform, self.user_id)
        return next((a for a in self.accounts if a.platform == platform), None)

    def used(self, platform: str, user_id: str) -> None:
        """The person acted through this account: private messages go there first."""
        self.platform, self.user_id = platform, user_id


class Directory:
    def __init__(self, settings: dict[str, Setting]) -> None:
        self.setting_specs = settings
        self.communities: dict[int, CommunityInfo] = {}
        self.spaces: dict[tuple[str, str], int | None] = {}
        # (community id, platform, user id) -> the member that account belongs to.
        self.members: dict[tuple[int, str, str], MemberRef] = {}
        self.by_id: dict[int, MemberRef] = {}
        # account -> the communities it is a member of.
        self.by_account: dict[tuple[str, str], set[int]] = {}
        self._staff: dict[int, set[int]] = {}  # community id -> owner/moderator ids
        # account -> the community its private chat is about now (the last community
        # that wrote to it privately, or that it chose); see `private_community`.
        self._private_focus: dict[tuple[str, str], int] = {}
        # While the core applies a commit (`Context.committed`): what the writes below
        # change, for the other processes (bot/sync.py). None otherwise.
        self.journal: Changes | None = None
        # Members merged into another (here or, learnt through bot/sync.py, in another
        # process): where counts still held for them belong (`moved`).
        self.merged: dict[int, int] = {}

    # --- reads (the hot path) ---

    def community_of(self, platform: str, space_id: str) -> CommunityInfo | None:
        community_id = self.spaces.get((platform, space_id))
        return None if community_id is None else self.communities.get(community_id)

    def member(self, community_id: int, platform: str, user_id: str) -> MemberRef | None:
        return self.members.get((community_id, platform, user_id))

    def communities_of_account(self, platform: str, user_id: str) -> set[int]:
        return self.by_account.get((platform, user_id), set())

    def private_community(self, platform: str, user_id: str) -> CommunityInfo | None:
        """The community a private chat with this account is about: the only one it
        belongs to, else the one in focus (see `focus`); None when it cannot be told."""
        ids = self.by_account.get((platform, user_id))
        if not ids:
            return None
        if len(ids) == 1:
            return self.communities.get(next(iter(ids)))
        focus = self._private_focus.get((platform, user_id))
        return self.communities.get(focus) if focus in ids else None

    def focus(self, platform: str, user_id: str, community_id: int) -> None:
        """A private chat with this account is now about this community."""
        if community_id in self.by_account.get((platform, user_id), ()):
            self._private_focus[(platform, user_id)] = community_id

    def moved(self, member_id: int) -> int | None:
        """The member a merged-away member is part of now (None: not merged, or the
        one it went into is gone too)."""
        seen = {member_id}
        while member_id in self.merged:
            member_id = self.merged[member_id]
            if member_id in seen:
                return None
            seen.add(member_id)
        return member_id if member_id in self.by_id and len(seen) > 1 else None

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
        if self.journal is not None:
            self.journal.communities.add(info.id)

    def update_community(
        self,
        community: CommunityInfo,
        *,
        name: str | None = None,
        timezone: str | None = None,
        locale: str | None = None,
    ) -> None:
        """The community's own fields (stored on its row)."""
        if name is not None:
            community.name = name
        if locale is not None:
            community.locale = locale
        if timezone is not None and timezone != community.timezone:
            community.set_timezone(timezone)
        if self.journal is not None:
            self.journal.communities.add(community.id)

    def set_setting(self, community: CommunityInfo, key: str, value: Any) -> None:
        """A stored setting; None: back to its default."""
        if value is None:
            community.settings.pop(key, None)
        else:
            community.settings[key] = value
        if self.journal is not None:
            self.journal.communities.add(community.id)

    def valid_settings(self, stored: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Stored settings that are still valid, and the keys of those that are not."""
        valid: dict[str, Any] = {}
        rejected: list[str] = []
        for key, value in stored.items():
            spec = self.setting_specs.get(key)
            try:
                valid[key] = spec.validate(value) if spec is not None else value
            except ValueError:
                rejected.append(key)
        return valid, rejected

    def set_space(self, platform: str, space_id: str, community_id: int | None) -> None:
        if self.journal is not None:
            self.journal.spaces.add((platform, space_id))
        old = self.spaces.get((platform, space_id))
        if old is not None and old in self.communities:
            self.communities[old].spaces.discard((platform, space_id))
        self.spaces[(platform, space_id)] = community_id
        if community_id is not None and community_id in self.communities:
            self.communities[community_id].spaces.add((platform, space_id))

    def forget_space(self, platform: str, space_id: str) -> None:
        self.set_space(platform, space_id, None)
        self.spaces.pop((platform, space_id), None)

    def add_member(self, ref: MemberRef) -> MemberRef:
        """Learn a member and its accounts; of a member already known, only the
        accounts are added. Returns the member as the index holds it."""
        known = self.by_id.setdefault(ref.id, ref)
        if self.journal is not None:
            self.journal.members.add(ref.id)
        for account in ref.accounts:
            self.add_account(known, account)
        if known.role != "member":
            self._staff.setdefault(known.community_id, set()).add(known.id)
        return known

    def add_account(self, ref: MemberRef, account: Account) -> None:
        if self.journal is not None:
            self.journal.members.add(ref.id)
        if account not in ref.accounts:
            ref.accounts.append(account)
        self.members[(ref.community_id, account.platform, account.user_id)] = ref
        self.by_account.setdefault(tuple(account), set()).add(ref.community_id)  # type: ignore[arg-type]

    def remove_account(self, ref: MemberRef, account: Account) -> None:
        if account in ref.accounts:
            ref.accounts.remove(account)
        if self.journal is not None:
            self.journal.members.add(ref.id)
        key = (ref.community_id, account.platform, account.user_id)
        if self.members.get(key, ref) is not ref:
            return  # the account belongs to another member now (a merge applied first)
        self.members.pop(key, None)
        communities = self.by_account.get((account.platform, account.user_id))
        if communities is not None:
            communities.discard(ref.community_id)
            if not communities:
                del self.by_account[(account.platform, account.user_id)]

    def remove_member(self, member_id: int) -> None:
        removed = self.by_id.pop(member_id, None)
        if removed is None:
            return
        if self.journal is not None:
            self.journal.members.add(member_id)
        for account in list(removed.accounts):
            self.remove_account(removed, account)
        self._staff.get(removed.community_id, set()).discard(member_id)

    def merge_members(self, from_id: int, into_id: int) -> None:
        """`from_id`'s accounts now belong to `into_id` (after a committed merge)."""
        source, target = self.by_id.get(from_id), self.by_id.get(into_id)
        if source is None or target is None:
            return
        accounts = list(source.accounts)
        self.merged[from_id] = into_id
        self.remove_member(from_id)
        for account in accounts:
            self.add_account(target, account)
        if source.permission > target.permission:  # as storage keeps it: the higher role
            self.set_role(into_id, source.role)

    def set_role(self, member_id: int, role: str) -> None:
        ref = self.by_id.get(member_id)
        if ref is None:
            return
        if self.journal is not None:
            self.journal.members.add(member_id)
        ref.role = role
        staff = self._staff.setdefault(ref.community_id, set())
        (staff.discard if role == "member" else staff.add)(member_id)

    # --- what another process changed (bot/sync.py), read back from storage ---

    def refresh_community(
        self,
        community_id: int,
        row: tuple[str, str, str] | None,
        settings: dict[str, Any],
    ) -> None:
        """The community as stored now: `row` is (name, timezone, locale), None if it
        is gone; `settings` its valid stored settings."""
        known = self.communities.get(community_id)
        if row is None:
            if known is not None:
                for platform, space_id in list(known.spaces):
                    self.forget_space(platform, space_id)
                del self.communities[community_id]
            return
        name, timezone, locale = row
        if known is None:
            self.add_community(CommunityInfo(community_id, name, timezone, locale, settings))
            for (platform, space_id), owner in self.spaces.items():
                if owner == community_id:
                    self.communities[community_id].spaces.add((platform, space_id))
            return
        self.update_community(known, name=name, timezone=timezone, locale=locale)
        known.settings.clear()
        known.settings.update(settings)

    def refresh_space(
        self, platform: str, space_id: str, community_id: int | None, *, active: bool
    ) -> None:
        """A space as stored now (`active` False: gone, or no row)."""
        if active:
            self.set_space(platform, space_id, community_id)
        else:
            self.forget_space(platform, space_id)

    def refresh_member(self, member_id: int, fresh: MemberRef | None) -> None:
        """A member as stored now (None: deleted, or merged into another). The object
        the index holds is kept, so references to it stay current."""
        if fresh is None:
            self.remove_member(member_id)
            return
        known = self.by_id.get(member_id)
        if known is None:
            self.add_member(fresh)
            return
        for account in list(known.accounts):
            if account not in fresh.accounts:
                self.remove_account(known, account)
        for account in fresh.accounts:
            self.add_account(known, account)
        if Account(known.platform, known.user_id) not in known.accounts and known.accounts:
            known.used(*known.accounts[0])
        known.display_name = fresh.display_name
        self.set_role(member_id, fresh.role)

    def note_merges(self, gone: dict[int, tuple[int, list[Account]]]) -> None:
        """Members another process removed (`gone`: their community and accounts as
        this index knew them): those whose accounts now belong to another member
        were merged into it."""
        for member_id, (community_id, accounts) in gone.items():
            for account in accounts:
                now = self.members.get((community_id, account.platform, account.user_id))
                if now is not None and now.id != member_id:
                    self.merged[member_id] = now.id
                    break

    def replace_with(self, fresh: Directory) -> None:
        """Everything as `fresh` (loaded anew from storage) has it, in one step: the
        hot path never sees a half-loaded index. The objects already known are kept
        (updated), so whoever holds one (a handler under way) stays current; what a
        private chat is about stays too."""
        for community_id, info in list(fresh.communities.items()):
            known = self.communities.get(community_id)
            if known is None:
                continue
            known.name, known.locale = info.name, info.locale
            if known.timezone != info.timezone:
                known.set_timezone(info.timezone)
            known.settings.clear()
            known.settings.update(info.settings)
            known.spaces = info.spaces
            fresh.communities[community_id] = known
        for member_id, ref in list(fresh.by_id.items()):
            old = self.by_id.get(member_id)
            if old is None:
                continue
            old.display_name, old.role = ref.display_name, ref.role
            old.accounts[:] = ref.accounts
            if Account(old.platform, old.user_id) not in old.accounts:
                old.used(ref.platform, ref.user_id)
            fresh.by_id[member_id] = old
        for key, ref in list(fresh.members.items()):
            fresh.members[key] = fresh.by_id[ref.id]
        self.communities = fresh.communities
        self.spaces = fresh.spaces
        self.members = fresh.members
        self.by_id = fresh.by_id
        self.by_account = fresh.by_account
        self._staff = fresh._staff
