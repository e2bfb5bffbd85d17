"""Which invite did a new member use? Discord does not say; we infer it.

Per guild we keep the use count of every invite (and of the vanity URL), loaded
when the guild becomes available and kept current from invite events. On each
join, under the guild's lock, the adapter fetches the counts again and asks
`GuildInvites.attribute` to diff them:

- `exact`: exactly one invite moved since the last look (or only one code moved,
  even by several uses: every one of those joins came through it);
- `vanity`: the only use that moved is the vanity URL's;
- `ambiguous`: several different codes moved in the window (joins raced). The
  codes are listed; the surplus uses are kept for the joins whose events are
  still on their way, and those are reported `ambiguous` with the same codes;
- `unknown`: the cache was cold, nothing moved (a join through Discovery), or the
  counts could not be read.

A single-use invite (one use left) is deleted by Discord on use: it cannot move. When
one vanishes (its INVITE_DELETE, or it is missing from the next counts) it counts as
moved by one use, so a join through it alone is `exact` and credits its creator.

Nothing here guesses: a join is attributed only when the counts prove it. Who made
each invite (its inviter, as Discord lists it; never a bot's, such as the invites
Kehila makes itself) is kept too, so an `exact` join can name them (`inviter_of`).
Pure logic, no discord import, so it is unit-testable on its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.events import Confidence

# Uses that no join event claimed within this many seconds are dropped (the join
# event was lost, or the member left before we saw them).
SURPLUS_WINDOW_S = 120.0


@dataclass(frozen=True, slots=True)
class Attribution:
    code: str | None
    confidence: Confidence
    candidates: tuple[str, ...] = ()


UNKNOWN = Attribution(None, "unknown")

# (user id, name) of an invite's creator.
Inviter = tuple[str, str]


@dataclass
class GuildInvites:
    warm: bool = False
    uses: dict[str, int] = field(default_factory=dict)
    vanity_code: str | None = None
    vanity_uses: int | None = None
    surplus: int = 0
    surplus_codes: frozenset[str] = frozenset()
    surplus_at: float = 0.0
    inviters: dict[str, Inviter] = field(default_factory=dict)  # by code
    # Codes with one use left (Discord deletes them on that use), and those of them
    # deleted since the last look (code -> when).
    single: set[str] = field(default_factory=set)
    vanished: dict[str, float] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def load(
        self,
        uses: Mapping[str, int],
        vanity_code: str | None,
        vanity_uses: int | None,
        inviters: Mapping[str, Inviter] | None = None,
        single: Iterable[str] = (),
    ) -> None:
        self.uses = dict(uses)
        self.inviters = dict(inviters or {})
        self.single, self.vanished = set(single), {}
        self.vanity_code = vanity_code
        self.vanity_uses = vanity_uses
        self.surplus, self.surplus_codes = 0, frozenset()
        self.warm = True

    def forget(self) -> None:
        """The counts can no longer be trusted (lost permission, failed fetch)."""
        self.warm = False
        self.uses.clear()
        self.inviters.clear()
        self.single.clear()
        self.vanished.clear()
        self.surplus, self.surplus_codes = 0, frozenset()

    def created(
        self, code: str, uses: int, inviter: Inviter | None = None, max_uses: int = 0
    ) -> None:
        self.uses.setdefault(code, uses)
        if inviter is not None:
            self.inviters[code] = inviter
        if max_uses and max_uses - uses == 1:
            self.single.add(code)

    def deleted(self, code: str, now: float | None = None) -> None:
        self.uses.pop(code, None)
        if code in self.single:  # used up, most likely: its creator stays known
            self.single.discard(code)
            self.vanished[code] = time.monotonic() if now is None else now
            return
        self.inviters.pop(code, None)

    def inviter_of(self, found: Attribution) -> Inviter | None:
        """Who made the invite of an `exact` join; nobody for any other confidence."""
        if found.confidence != "exact" or found.code is None:
            return None
        return self.inviters.get(found.code)

    def attribute(
        self,
        current: Mapping[str, int],
        vanity_code: str | None,
        vanity_uses: int | None,
        now: float | None = None,
        single: Iterable[str] | None = None,
    ) -> Attribution:
        """Diff the counts for one join and remember the new counts."""
        now = time.monotonic() if now is None else now
        if not self.warm:
            self.load(current, vanity_code, vanity_uses, single=single or ())
            return UNKNOWN
        moved: dict[str, int] = {}
        for code, n in current.items():
            delta = n - self.uses.get(code, 0)
            if delta > 0:
                moved[code] = delta
        # Single-use invites gone since the last look: used up by a join.
        for code in self.single - set(current):
            if code in self.uses:
                moved[code] = moved.get(code, 0) + 1
        for code, at in self.vanished.items():
            if now - at <= SURPLUS_WINDOW_S and code not in moved:
                moved[code] = 1
        self.vanished = {}
        if single is not None:
            self.single = set(single)
        else:
            self.single &= set(current)
        if (
            vanity_code is not None
            and vanity_uses is not None
            and self.vanity_uses is not None
            and vanity_code == self.vanity_code
            and vanity_uses > self.vanity_uses
        ):
            moved[vanity_code] = moved.get(vanity_code, 0) + vanity_uses - self.vanity_uses
        self.uses = dict(current)
        self.vanity_code, self.vanity_uses = vanity_code, vanity_uses

        if self.surplus and now - self.surplus_at > SURPLUS_WINDOW_S:
            self.surplus, self.surplus_codes = 0, frozenset()
        total = self.surplus + sum(moved.values())
        codes = self.surplus_codes | frozenset(moved)
        if total == 0:
            return UNKNOWN
        self.surplus = total - 1
        self.surplus_codes = codes if self.surplus else frozenset()
        self.surplus_at = now
        if len(codes) == 1:
            (code,) = codes
            return Attribution(code, "vanity" if code == vanity_code else "exact")
        return Attribution(None, "ambiguous", tuple(sorted(codes)))
