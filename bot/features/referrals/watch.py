"""Who referrals is watching, in memory, so a member's activity costs no transaction
unless it matters: newcomers whose referral waits for them to take part, and members
who brought someone (ambassador candidates: every level asks for a qualified
referral), with the weeks already noted for them; members in their first two weeks,
and the replies candidates gave them, until written.

Per process, rebuilt from storage at start and kept current by the handlers that
change it, like onboarding's watch lists (docs/ARCHITECTURE.md, "Several
processes"). A Discord server's events all reach one process; on Telegram with
several processes a newcomer's first message handled by another process than their
join is seen there after its next start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.features.referrals.settings import NEWCOMER_WEEKS
from bot.services import Services
from storage.referrals import ReferralsRepo
from storage.unit_of_work import UnitOfWork


@dataclass
class Watch:
    pending: set[int] = field(default_factory=set)
    inviters: set[int] = field(default_factory=set)
    weeks: set[tuple[int, str]] = field(default_factory=set)
    # Members in their first two weeks (member id -> joined), and replies to them by
    # members who brought someone, not yet written (member id -> replies).
    newcomers: dict[int, datetime] = field(default_factory=dict)
    helped: dict[int, int] = field(default_factory=dict)

    def merged(self, from_id: int, into_id: int) -> None:
        for members in (self.pending, self.inviters):
            if from_id in members:
                members.discard(from_id)
                members.add(into_id)
        self.newcomers.pop(from_id, None)
        if from_id in self.helped:
            self.helped[into_id] = self.helped.get(into_id, 0) + self.helped.pop(from_id)
        self.weeks = {w for w in self.weeks if w[0] != from_id}

    def forgotten(self, member_id: int) -> None:
        self.pending.discard(member_id)
        self.inviters.discard(member_id)
        self.newcomers.pop(member_id, None)
        self.helped.pop(member_id, None)
        self.weeks = {w for w in self.weeks if w[0] != member_id}


async def load(services: Services) -> None:
    watch = services.state(Watch)
    async with UnitOfWork(services.db) as uow:
        repo = uow.repo(ReferralsRepo)
        watch.pending = set(await repo.awaiting_part())
        watch.inviters = set(await repo.inviters())
        since = services.clock.now() - timedelta(weeks=NEWCOMER_WEEKS)
        watch.newcomers = dict(await repo.recent_newcomers(since))
