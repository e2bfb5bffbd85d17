"""Referrals on the console: personal links, who brought whom, qualifying after N days
of staying and taking part, lapsing on leaving, chains for owners, ambassador levels
rising at once and falling at the monthly review, privacy."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select

from adapters.console.community import ConsoleCommunity
from bot.actions import Reply
from bot.config import Config
from bot.features import all_features
from storage.referrals import Referral, ReferralsRepo
from storage.unit_of_work import UnitOfWork
from tests.conftest import START
from tests.conftest import member_ref as _ref
from tests.merging import merging_feature

LINK = re.compile(r"console://join/(\w+)")


async def _link(console: ConsoleCommunity, who: str) -> str:
    await console.run(f"/as {who}\n/dm /invite")
    found = LINK.search(console.last_text())
    assert found, console.last_text()
    return found.group(1)


async def _referral(console: ConsoleCommunity, user_id: str) -> Referral:
    member = _ref(console, user_id)
    async with UnitOfWork(console.app.services.db) as uow:
        found = await uow.repo(ReferralsRepo).of_member(member.community_id, member.id)
    assert found is not None
    return found


async def test_a_members_link_is_made_once_and_reused(console: ConsoleCommunity) -> None:
    await console.run("/join yossi\n/as yossi\nhello")
    code = await _link(console, "yossi")
    assert (
        "someone who joins through it counts for you once they have stayed and taken part."
        in console.last_text()
    )
    assert await _link(console, "yossi") == code  # the same link, not a new one
    assert len([c for c in console.adapter.invites if c == code]) == 1
    assert len(console.adapter.invites) == 1


async def test_a_referral_qualifies_after_n_days_of_staying_and_taking_part(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join yossi\n/as yossi\nhello")
    code = await _link(console, "yossi")
    await console.run(f"/join dana invite={code}\n/as dana\nhi everyone")
    dana = await _referral(console, "dana")
    assert (dana.code, dana.confidence, dana.status) == (code, "exact", "pending")
    assert dana.inviter_id == _ref(console, "yossi").id
    await console.advance(timedelta(days=6))
    assert (await _referral(console, "dana")).status == "pending"  # not 7 days yet
    await console.advance(timedelta(days=1, hours=1))
    assert (await _referral(console, "dana")).status == "qualified"
    await _link(console, "yossi")
    assert "1 person you brought has stayed and taken part." in console.last_text()


async def test_a_newcomer_who_never_takes_part_qualifies_when_they_do(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join yossi\n/as yossi\nhello")
    code = await _link(console, "yossi")
    await console.run(f"/join avi invite={code}")
    await console.advance(timedelta(days=8))
    assert (await _referral(console, "avi")).status == "pending"
    await console.run("/as avi\nfinally saying hello")
    assert (await _referral(console, "avi")).status == "qualified"


async def test_leaving_before_qualifying_lapses_and_a_rejoin_does_not_count_again(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join yossi\n/as yossi\nhello")
    code = await _link(console, "yossi")
    await console.run(f"/join dana invite={code}\n/as dana\nhi")
    await console.advance(timedelta(days=2))
    await console.run("/leave dana")
    assert (await _referral(console, "dana")).status == "lapsed"
    await console.run(f"/join dana invite={code}\n/as dana\nback again")
    await console.advance(timedelta(days=8))
    assert (await _referral(console, "dana")).status == "lapsed"
    async with UnitOfWork(console.app.services.db) as uow:
        dana_id = _ref(console, "dana").id
        rows = (
            await uow.session.scalars(select(Referral).where(Referral.member_id == dana_id))
        ).all()
    assert len(rows) == 1


async def test_owners_see_chains_members_do_not(console: ConsoleCommunity) -> None:
    await console.run("/join yossi\n/as yossi\nhello")
    yossi_code = await _link(console, "yossi")
    await console.run(f"/join dana invite={yossi_code}\n/as dana\nhi")
    dana_code = await _link(console, "dana")
    await console.run(f"/join avi invite={dana_code}\n/as avi\nhey")
    await console.advance(timedelta(days=8))
    await console.run("/as owner\n/referrals yossi")  # `show` left out, as on text platforms
    shown = console.last_text()
    assert "yossi brought 1 member who stayed and took part:" in shown
    assert "dana, joined" in shown and "counted (through their link)" in shown
    assert "↳ avi, joined" in shown
    assert "\n    ↳ avi, joined" in shown and "• " not in shown.split("↳")[0].splitlines()[-1]
    await console.run("/referrals show yossi")  # the long form, as Discord has it
    assert console.last_text() == shown
    console.clear()
    await console.run("/as dana\n/referrals yossi")
    assert console.last_text() == "Only owners can use /referrals. Nothing was changed."
    await console.run("/as owner\n/referrals")  # the usage, nothing else
    assert console.last_text().startswith("Usage:\n/referrals [show] MEMBER  — ")
    assert "/referrals undecided  — " in console.last_text()
    await console.run("/referrals undecied")  # a subcommand mistyped: no such member
    said, *usage = console.last_text().splitlines()
    assert said == "No member is called undecied."
    assert usage[:2] == ["Usage:", "/referrals [show] MEMBER  — A member's referrals, and theirs"]
    await console.run("/help referrals")
    assert "/referrals [show] MEMBER — A member's referrals, and theirs" in console.last_text()
    await console.run("/referrals credit dana")  # a word missing: the usage of credit
    assert console.last_text().startswith("Usage:\n/referrals credit NEWCOMER INVITER")


async def test_an_unknown_join_is_credited_by_an_owner(console: ConsoleCommunity) -> None:
    await console.run("/join yossi\n/as yossi\nhello\n/join rina")
    rina = await _referral(console, "rina")
    assert (rina.confidence, rina.inviter_id) == ("unknown", None)
    await console.run("/as owner\n/referrals credit rina yossi")
    assert "rina is now counted as brought by yossi." in console.last_text()
    assert (await _referral(console, "rina")).inviter_id == _ref(console, "yossi").id
    await console.run("/referrals credit rina owner")  # decided: not again
    assert "already known" in console.last_text()


async def test_an_owner_cannot_credit_a_circle(console: ConsoleCommunity) -> None:
    """yossi brought rina, rina brought dov: neither can be counted as their brought's."""
    await console.run("/join yossi\n/join rina\n/join dov")
    await console.run("/referrals credit rina yossi\n/referrals credit dov rina")
    for newcomer, inviter in (("yossi", "rina"), ("yossi", "dov")):
        await console.run(f"/referrals credit {newcomer} {inviter}")
        assert console.last_text() == (
            f"{inviter} joined through {newcomer}, so {inviter} cannot have brought "
            f"{newcomer}. Nothing was changed."
        )
        assert (await _referral(console, "yossi")).inviter_id is None


async def test_ambassador_level_rises_at_once_and_falls_at_the_monthly_review(
    console: ConsoleCommunity,
) -> None:
    await console.run(
        "/as owner\n/config set ambassadors.level1_weeks 1\n"
        "/config set ambassadors.level1_referrals 1\n"
        "/config set ambassadors.level1_reward Ambassador\n"
        "/config set referrals.qualify_after 1d"
    )
    await console.run("/join yossi\n/as yossi\nhello")
    code = await _link(console, "yossi")
    await console.run(f"/join dana invite={code}\n/as dana\nhi")
    await console.advance(timedelta(days=1, hours=1))
    yossi = _ref(console, "yossi")
    # Dana counts; Yossi's weeks are noted from his first referral on: none yet.
    assert (await _referral(console, "dana")).status == "qualified"
    async with UnitOfWork(console.app.services.db) as uow:
        assert "Ambassador" not in await uow.members.tags(yossi.id)
    await console.run("/as yossi\ngood morning")  # a week of taking part: at once
    async with UnitOfWork(console.app.services.db) as uow:
        assert "Ambassador" in await uow.members.tags(yossi.id)
    await console.run("/as owner\n/ambassadors")
    assert "Level 1:" in console.last_text() and "yossi" in console.last_text()
    # Yossi stops taking part for over a year: the review lowers him.
    await console.advance(timedelta(days=366))
    async with UnitOfWork(console.app.services.db) as uow:
        assert "Ambassador" not in await uow.members.tags(yossi.id)
    await console.run("/as owner\n/ambassadors")
    assert "Fell at the last review:" in console.last_text()


async def test_forgetting_keeps_the_counts_anonymised(console: ConsoleCommunity) -> None:
    await console.run("/join yossi\n/as yossi\nhello")
    code = await _link(console, "yossi")
    await console.run(f"/join dana invite={code}\n/as dana\nhi")
    await console.advance(timedelta(days=8))
    await console.run("/as yossi\n/dm /mydata")
    reply = console.actions(Reply)[-1]
    assert isinstance(reply, Reply) and reply.attachments
    exported = json.loads(reply.attachments[0].data)
    assert exported["referrals"]["brought"]["qualified"] == 1
    await console.run("/as yossi\n/dm /forgetme")
    await console.run("/click 1")
    dana = await _referral(console, "dana")
    assert dana.status == "qualified" and dana.inviter_id is None and dana.inviter_forgotten


async def test_the_digest_has_a_referrals_section_and_owners_export_csv(
    console: ConsoleCommunity,
) -> None:
    await console.run("/as owner\n/config set referrals.qualify_after 1d")
    await console.run("/join yossi\n/as yossi\nhello")
    code = await _link(console, "yossi")
    await console.run(f"/join dana invite={code}\n/as dana\nhi\n/join =avi")
    await console.advance(timedelta(days=7))
    await console.run("/as owner\n/digest now")
    digest = next(t for t in reversed(console.seen_by("@owner")) if "Referrals" in t)
    assert "Joins: 1 through members' links" in digest
    assert "1 referral qualified this week." in digest
    assert "yossi: 1" in digest
    await console.run("/export referrals")
    reply = console.actions(Reply)[-1]
    assert isinstance(reply, Reply) and reply.attachments
    csv_text = reply.attachments[0].data.decode("utf-8-sig")
    header, *rows = csv_text.splitlines()
    assert header.startswith('"joined_at","member","inviter","invite_code","confidence"')
    dana = next(r for r in rows if '"dana"' in r)
    assert f'"dana","yossi","{code}","exact","qualified"' in dana
    avi = next(r for r in rows if "avi" in r)
    assert '"\'=avi"' in avi  # a name a spreadsheet would run is made inert


async def test_export_is_one_command_for_activity_and_referrals(
    console: ConsoleCommunity,
) -> None:
    """`/export` is declared by engagement (`activity`) and referrals (`referrals`):
    one command, listed once, both subcommands working, for owners only."""
    await console.run("/join yossi\n/as yossi\nhello\n/as owner\n/export activity 2")
    activity = console.actions(Reply)[-1]
    assert isinstance(activity, Reply) and activity.attachments
    assert activity.attachments[0].filename.startswith("activity-")
    await console.run("/export referrals")
    referrals = console.actions(Reply)[-1]
    assert isinstance(referrals, Reply) and referrals.attachments
    assert referrals.attachments[0].filename.startswith("referrals-")
    assert console.last_text().startswith(
        "1 join, with its inviter where known, as CSV."
    )  # yossi's join

    await console.run("/export")
    listed = console.last_text().splitlines()
    assert listed[0] == "Usage:"
    assert [line.split("  — ")[0] for line in listed[1:]] == [
        "/export referrals",
        "/export activity [WEEKS]",
    ]
    await console.run("/export everything")
    assert console.last_text().startswith("I did not understand everything.\nUsage:")
    await console.run("/referrals export")  # the old form: a member's name now
    assert console.last_text().startswith("No member is called export.")

    await console.run("/help")
    assert console.last_text().count("/export") == 1
    assert "/export (referrals, activity)" in console.last_text()
    await console.run("/help export")
    assert (
        "/export referrals — Every join, with its inviter where known, as CSV"
        in console.last_text()
    )
    assert "/export activity [WEEKS] — Per-member weekly activity as CSV" in console.last_text()

    replies = len(console.actions(Reply))
    await console.run("/as yossi\n/export referrals")
    assert console.last_text() == "Only owners can use /export. Nothing was changed."
    answer = console.actions(Reply)[replies:]
    assert len(answer) == 1 and isinstance(answer[0], Reply) and not answer[0].attachments


async def test_merging_two_members_keeps_one_arrival_and_every_referral(
    config: Config,
) -> None:
    console = ConsoleCommunity(config, start=START, features=[*all_features(), merging_feature()])
    await console.start(migrate=False)
    try:
        await console.run("/setup Test Community\n/join yossi\n/as yossi\nhello\n/join yossi2")
        code = await _link(console, "yossi2")
        await console.run(f"/join dana invite={code}\n/as dana\nhi")
        yossi, yossi2 = _ref(console, "yossi"), _ref(console, "yossi2")
        await console.run("/as owner\n/merge yossi2 yossi")
        dana = await _referral(console, "dana")
        assert dana.inviter_id == yossi.id  # the people yossi2 brought are yossi's now
        async with UnitOfWork(console.app.services.db) as uow:
            arrivals = (
                await uow.session.scalars(
                    select(Referral).where(Referral.member_id.in_([yossi.id, yossi2.id]))
                )
            ).all()
        assert [r.member_id for r in arrivals] == [yossi.id]  # one arrival, the earlier
        await console.run("/as yossi\n/dm /invite")
        assert f"console://join/{code}" in console.last_text()  # his link came along
    finally:
        await console.stop()


async def test_an_onboarding_answer_is_taking_part_when_the_owner_says_so(
    console: ConsoleCommunity,
) -> None:
    await console.run(
        "/as owner\n/config set referrals.taking_part any\n"
        "/onboarding question add Why are you here? | Networking | Learning"
    )
    await console.run("/join yossi\n/as yossi\nhello")
    code = await _link(console, "yossi")
    await console.run(f"/join dana invite={code}\n/as dana\n/click 1\n/click 1")
    await console.advance(timedelta(days=7, hours=1))
    dana = await _referral(console, "dana")
    assert dana.took_part_at is not None and dana.status == "qualified"  # never posted


async def test_the_welcome_names_whose_personal_link_it_was(console: ConsoleCommunity) -> None:
    await console.run("/as owner\n/onboarding set welcome Hi {member}, {inviter} invited you!")
    await console.run("/join yossi\n/as yossi\nhello")
    code = await _link(console, "yossi")
    console.clear()
    await console.run(f"/join dana invite={code}")
    assert "Hi @dana, yossi invited you!" in console.seen_by("#general")
    await console.run("/join avi")  # no link: nobody to name
    assert "Hi @avi, a friend invited you!" in console.seen_by("#general")


async def test_replies_to_newcomers_count_towards_a_level(console: ConsoleCommunity) -> None:
    await console.run(
        "/as owner\n/config set ambassadors.level1_weeks 1\n"
        "/config set ambassadors.level1_referrals 1\n/config set ambassadors.level1_help 2\n"
        "/config set ambassadors.level1_reward Ambassador\n/config set referrals.qualify_after 1d"
    )
    await console.run("/join yossi\n/as yossi\nhello")
    code = await _link(console, "yossi")
    await console.run(f"/join dana invite={code}\n/as dana\nhi")
    await console.advance(timedelta(days=1, hours=1))
    await console.run("/as yossi\ngood morning")  # a week, a referral: no help yet
    yossi = _ref(console, "yossi")

    async def tags() -> list[str]:
        async with UnitOfWork(console.app.services.db) as uow:
            return await uow.members.tags(yossi.id)

    assert "Ambassador" not in await tags()
    await console.run("/join avi\n/as avi\nhow does this work?")
    await console.run("/as yossi\n/reply avi like this!")
    assert "Ambassador" not in await tags()  # one reply of two
    await console.run("/reply avi and ask anything")
    assert "Ambassador" in await tags()  # the second reply to a newcomer: at once
    await console.run("/as dana\n/reply yossi thanks")  # not a newcomer's helper
    await console.run("/as yossi\n/dm /mydata")
    reply = console.actions(Reply)[-1]
    assert isinstance(reply, Reply) and reply.attachments
    exported = json.loads(reply.attachments[0].data)
    assert exported["referrals"]["replies_to_newcomers"] == 2
