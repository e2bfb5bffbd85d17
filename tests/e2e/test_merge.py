"""Two members who are one person become one (`bot.members.merge_members`): every
feature's data moves, in one unit of work, on SQLite and PostgreSQL alike. Here a test
command merges (tests/merging.py); the linking commands are tested in
tests/e2e/test_linking.py and tests/adapters/linking/."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, or_, select

from adapters.console.community import ConsoleCommunity
from bot.actions import Reply
from bot.config import Config
from bot.features import all_features
from bot.features.engagement import engagement
from bot.features.onboarding import Runtime
from storage.digest import ActiveWeeks, ActivityWeekly, DigestQuestion
from storage.models import InteractionDaily
from storage.onboarding import OnboardingAnswer, OnboardingRepo
from storage.unit_of_work import UnitOfWork
from tests.conftest import START
from tests.conftest import member_ref as _ref
from tests.merging import merging_feature

QUESTION = "/onboarding question add Why are you here? | Networking | Learning\n"


async def _console(config: Config) -> ConsoleCommunity:
    console = ConsoleCommunity(config, start=START, features=[*all_features(), merging_feature()])
    await console.start(migrate=False)
    await console.run("/setup Test Community")
    return console


async def test_merging_moves_every_features_data_to_one_person(config: Config) -> None:
    console = await _console(config)
    try:
        await console.run(QUESTION)
        # Dana, on her first account: accepted the rules, answered, posted, asked.
        await console.run("/join dana\n/as dana\n/click 1\n/click 1")
        await console.run("/say dana Does anyone know a good printer?\n/say dana hello")
        # Her second account: joined, never accepted; posted, and replied to her first.
        await console.run("/join dana2\n/as dana2\nhi all\n/reply dana me again")
        await console.run("/join noa\n/as noa\n/reply dana2 welcome!")
        await engagement(console.app.services).flush()
        # Some activity still in memory when they are merged.
        await console.run("/say dana2 one more")
        dana, dana2, noa = _ref(console, "dana"), _ref(console, "dana2"), _ref(console, "noa")
        await console.run("/as owner\n/merge dana2 dana")
        assert console.last_text() == "Merged."

        directory = console.app.directory
        # One person, two accounts.
        assert _ref(console, "dana2") is dana
        assert sorted(a.user_id for a in dana.accounts) == ["dana", "dana2"]
        assert dana2.id not in directory.by_id
        await engagement(console.app.services).flush()
        async with UnitOfWork(console.app.services.db) as uow:
            session = uow.session
            day = START.date()
            totals = await uow.activity.member_totals(
                dana.id, day - timedelta(days=7), day + timedelta(days=7)
            )
            # Counters add up: 3 + 2 messages; replies received by either account (from
            # noa, and from her other account). Who talked to whom drops the pair of
            # her own two accounts: not an interaction between members.
            assert totals["messages"] == 5
            assert totals["replies_received"] == 2
            pairs = (
                await session.execute(
                    select(InteractionDaily.from_member_id, InteractionDaily.to_member_id)
                )
            ).all()
            assert (noa.id, dana.id) in pairs
            assert all(dana2.id not in pair for pair in pairs)
            assert (dana.id, dana.id) not in pairs
            weekly = await session.scalar(
                select(func.sum(ActivityWeekly.messages)).where(ActivityWeekly.member_id == dana.id)
            )
            assert weekly == 5
            weeks = (
                await session.execute(
                    select(ActiveWeeks.member_id).where(
                        ActiveWeeks.member_id.in_([dana.id, dana2.id])
                    )
                )
            ).all()
            assert [w.member_id for w in weeks] == [dana.id]
            askers = (await session.scalars(select(DigestQuestion.member_id))).all()
            assert askers and set(askers) == {dana.id}
            # Onboarding: her accepted run is kept, the other account's is gone.
            repo = uow.repo(OnboardingRepo)
            state = await repo.state(dana.id)
            assert state is not None and state.accepted_at is not None
            assert await repo.state(dana2.id) is None
            answers = (
                await session.scalars(
                    select(OnboardingAnswer.member_id).where(
                        or_(
                            OnboardingAnswer.member_id == dana.id,
                            OnboardingAnswer.member_id == dana2.id,
                        )
                    )
                )
            ).all()
            assert answers == [dana.id]
            identities = await uow.members.identities(dana.id)
            assert sorted(i.user_id for i in identities) == ["dana", "dana2"]
            assert await uow.members.get(dana2.id) is None
        # Memory follows: nobody waits on the gone member.
        rt = console.app.services.state(Runtime)
        assert dana2.id not in rt.here and dana2.id not in rt.watching
        # The funnel counts people: Dana once (not three joins), and Noa.
        await console.run("/as owner\n/onboarding stats")
        assert "2 members joined → 1 accepted → 1 answered → 2 posted" in console.last_text()
        # /mydata, from either account, lists both.
        await console.run("/as dana2\n/dm /mydata")
        reply = console.actions(Reply)[-1]
        assert isinstance(reply, Reply) and reply.attachments
        exported = json.loads(reply.attachments[0].data)
        assert sorted(a["user_id"] for a in exported["accounts"]) == ["dana", "dana2"]
    finally:
        await console.stop()


async def test_the_further_onboarding_wins_whichever_member_it_was(config: Config) -> None:
    console = await _console(config)
    try:
        await console.run(QUESTION)
        await console.run("/join dana\n/join dana2\n/as dana2\n/click 1")
        dana, dana2 = _ref(console, "dana"), _ref(console, "dana2")
        await console.run("/as owner\n/merge dana2 dana")
        async with UnitOfWork(console.app.services.db) as uow:
            state = await uow.repo(OnboardingRepo).state(dana.id)
            gate_for_gone = await uow.jobs.get("onboarding.nudge", str(dana2.id))
        assert state is not None and state.accepted_at is not None
        assert gate_for_gone is None
        rt = console.app.services.state(Runtime)
        # The question she is on wants a choice, not text; she is here, watched once.
        assert dana.id in rt.here and dana2.id not in rt.here
    finally:
        await console.stop()
