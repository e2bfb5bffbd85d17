"""Onboarding's per-process state, its load at start, and the names the modules share.

Memory keeps the hot path and the welcome off the database: who is watched for a first
message, who owes a free-text answer, who is here, who left recently, whether welcomes wait."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.actions import ActionResult, Send
from bot.events import Event
from bot.services import Services
from storage.onboarding import OnboardingRepo
from storage.unit_of_work import UnitOfWork

PREFIX = "onb"
GATE_JOB = "onboarding.gate"
NUDGE_JOB = "onboarding.nudge"
# At start, members who joined within this long and have not posted are watched.
WATCH_WINDOW = timedelta(days=30)
# A welcome that named an inviter can lose the name for this long: referrals withdraws
# a credit within seconds of the join (a join 10 seconds later), handled moments after.
KEEP_NAMED = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Decision:
    """What the in-memory handler decided for one join, for the handler that writes it.

    `welcomed`: it applied the gate (`gate`) and sent the welcome, or held it back in
    a surge (`paused`); the write records a fresh join. Otherwise memory said "already
    here" or "back within the window", which the write checks against the database."""

    event: Event
    welcomed: bool
    gate: str | None = None
    paused: bool = False


@dataclass
class Runtime:
    # Members who joined recently and have not posted yet (the first-message watch).
    watching: set[int] = field(default_factory=set)
    # Members whose current question wants a free-text answer.
    awaiting: set[int] = field(default_factory=set)
    # Communities in a join surge (moderation's `SurgeStarted` until `SurgeEnded`):
    # their welcomes wait.
    paused: set[int] = field(default_factory=set)
    # Members with an onboarding state who are here (welcomed, not left): not welcomed
    # again. Loaded at start, kept current as they join and leave.
    here: set[int] = field(default_factory=set)
    # Members who left recently (member id -> left at): a rejoin within the window is
    # not welcomed. Loaded at start for each community's window; pruned as it grows.
    left: dict[int, datetime] = field(default_factory=dict)
    # The welcome handler's decision, by `id(event)`, for the write handler that runs
    # next on the same event.
    decisions: dict[int, Decision] = field(default_factory=dict)
    # Who brought a member joining now (referrals' `MemberReferred`, published before
    # the welcome): member id -> the inviter's name, taken by the welcome.
    inviters: dict[int, str] = field(default_factory=dict)
    # Public welcomes that named an inviter, by member id: (posted at, the Send, its
    # message id), so a referral withdrawn a moment later (`ReferralWithdrawn`) can
    # take the name out. Kept for KEEP_NAMED.
    named: dict[int, tuple[datetime, Send, str]] = field(default_factory=dict)
    # Prune `left` when it grows past this.
    left_limit: int = 1024

    def posted(self, member_id: int, at: datetime, send: Send, result: ActionResult) -> None:
        """A welcome that named an inviter went out: keep where, for a while."""
        if not result.ok or result.message_id is None:
            return
        self.named.pop(member_id, None)
        self.named[member_id] = (at, send, result.message_id)
        while next(iter(self.named.values()))[0] < at - KEEP_NAMED:
            del self.named[next(iter(self.named))]

    def arrived(self, member_id: int) -> None:
        self.here.add(member_id)
        self.left.pop(member_id, None)

    def departed(self, member_id: int, at: datetime) -> None:
        self.here.discard(member_id)
        self.left[member_id] = at
        self.forget(member_id)

    def forget(self, member_id: int) -> None:
        self.watching.discard(member_id)
        self.awaiting.discard(member_id)

    def merge(self, from_id: int, into_id: int, *, from_won: bool) -> None:
        """Two members are one person, with the onboarding of `from_id` if it won."""
        for ids in (self.watching, self.awaiting, self.here):
            if from_won:
                (ids.add if from_id in ids else ids.discard)(into_id)
            ids.discard(from_id)
        self.named.pop(from_id, None)  # gone with the member it was about
        left = self.left.pop(from_id, None)
        if from_won:
            self.left.pop(into_id, None)
            if left is not None:
                self.left[into_id] = left

    def erase(self, member_id: int) -> None:
        """No onboarding state any more (deleted, or the owner's test run)."""
        self.forget(member_id)
        self.here.discard(member_id)
        self.left.pop(member_id, None)
        self.named.pop(member_id, None)


def runtime(services: Services) -> Runtime:
    return services.state(Runtime)


async def load(services: Services) -> None:
    """At start: who is watched, who owes a free-text answer, who is here, who left."""
    state = runtime(services)
    now = services.clock.now()
    async with UnitOfWork(services.db) as uow:
        repo = uow.repo(OnboardingRepo)
        state.watching = set(await repo.watching(now - WATCH_WINDOW))
        state.awaiting = set(await repo.awaiting_text())
        # One query each for the welcome's in-memory decision: who is here already,
        # and who left within the longest rejoin window of any community.
        state.here = set(await repo.present())
        state.left = dict(await repo.left_since(now - longest_window(services)))
    state.left_limit = max(1024, 2 * len(state.left))


def longest_window(services: Services) -> timedelta:
    directory = services.directory
    seconds = [
        int(directory.setting(c, "onboarding.rejoin_window"))
        for c in directory.communities.values()
    ]
    return timedelta(seconds=max(seconds, default=0))


def prune_left(services: Services, now: datetime) -> None:
    """Drop leaves older than any community's rejoin window (they no longer matter)."""
    rt = runtime(services)
    since = now - longest_window(services)
    rt.left = {m: at for m, at in rt.left.items() if at >= since}
    rt.left_limit = max(1024, 2 * len(rt.left))
