"""Onboarding, end to end through the console adapter and the fake clock."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text

from adapters.console.community import ConsoleCommunity
from bot.actions import (
    AssignRole,
    Button,
    Kick,
    Restrict,
    Send,
    SendDirect,
    Unrestrict,
)
from bot.context import Context
from bot.directory import MemberRef
from bot.events import Actor, MemberJoined, MemberScreeningPassed
from bot.features.engagement import engagement
from bot.features.onboarding.funnel import digest_section
from bot.features.onboarding.runtime import Runtime
from bot.i18n import gettext
from storage.database import Database

QUESTIONS = """
/onboarding question add Why did you join? | Networking -> networker | Learning | Selling -> seller
/onboarding question add What do you do?
"""


def private_to(console: ConsoleCommunity, name: str) -> list[str]:
    return console.seen_by(f"@{name}")


def directs_to(console: ConsoleCommunity, user_id: str) -> list[SendDirect]:
    return [
        a for a in console.actions(SendDirect) if isinstance(a, SendDirect) and a.user_id == user_id
    ]


def shown_buttons(console: ConsoleCommunity) -> list[Button]:
    return [button for button, _ in console.adapter.buttons]


async def scalar(console: ConsoleCommunity, sql: str) -> object:
    db = Database(console.config.database.url)
    try:
        async with db.session() as session:
            return await session.scalar(text(sql))
    finally:
        await db.dispose()


async def test_join_welcome_accept_answers_roles_tags_and_first_message(
    console: ConsoleCommunity,
) -> None:
    await console.run(
        QUESTIONS
        + """
/config set onboarding.member_role Members
/onboarding gate on
/config set community.channel lobby
"""
    )
    console.clear()
    await console.run("/join dana")
    # Public welcome in the community channel, mentioning her; rules privately.
    (welcome,) = console.actions(Send)
    assert isinstance(welcome, Send) and welcome.channel_id == "lobby"
    assert "Welcome to Test Community, @dana!" in welcome.text.plain()
    (dm,) = directs_to(console, "dana")
    assert "Be kind and respectful" in dm.text.plain()
    assert [b.label for b in dm.buttons] == ["I accept"]
    assert all(len(b.action_id.encode()) < 64 for b in dm.buttons)
    # Gated by withholding the member role: no role yet, no restriction.
    assert "Members" not in console.adapter.member("dana").roles
    assert console.actions(Restrict) == []

    await console.run("/as dana\n/click 1")
    assert "Members" in console.adapter.member("dana").roles
    assert "Question 1 of 2: Why did you join?" in private_to(console, "dana")[-1]
    assert [b.label for b in shown_buttons(console)] == [
        "Networking",
        "Learning",
        "Selling",
        "Skip",
    ]

    await console.run("/click 1")
    assert "networker" in console.adapter.member("dana").roles
    assert "Question 2 of 2: What do you do?" in private_to(console, "dana")[-1]
    await console.run("/dm I bake sourdough bread and sell it at markets")
    assert "Thank you for your answers!" in private_to(console, "dana")[-1]

    # The choice's target is also a tag (what stands in for roles on Telegram).
    assert await scalar(console, "SELECT tag FROM member_tag") == "networker"
    assert await scalar(console, "SELECT count(*) FROM onboarding_answer") == 2

    await console.run("hello everyone!")
    await console.run("/as owner\n/onboarding stats")
    assert (
        "1 member joined → 1 accepted → 1 answered → 1 posted within 7 days" in console.last_text()
    )
    await console.run("/onboarding answers")
    answers = console.last_text()
    assert "Networking: 1 (100%)" in answers and "Learning: 0 (0%)" in answers
    assert "sourdough (1)" in answers and "and (1)" not in answers

    # The digest hook reads the same funnel.
    info = console.app.directory.community_of("console", "console")
    assert info is not None
    ctx = Context(console.app.services, _join_event("x"), info, None)
    section = await digest_section(ctx, date(2026, 3, 2), date(2026, 3, 8))
    await ctx.uow.close()
    assert section is not None
    assert "New members: 1 member joined → 1 accepted → 1 answered" in section.plain()


async def test_without_roles_the_gate_restricts_and_accepting_lifts_it(
    console: ConsoleCommunity,
) -> None:
    await console.run("/onboarding gate on")
    console.clear()
    await console.run("/join noa")
    assert console.adapter.member("noa").restricted
    await console.run("/as noa\n/click 1")
    assert not console.adapter.member("noa").restricted
    assert len(console.actions(Unrestrict)) == 1
    # Pressing again does not lift anything twice.
    await console.run("/click 1")
    assert "already accepted" in private_to(console, "noa")[-1]
    assert len(console.actions(Unrestrict)) == 1


async def test_gate_time_out_removes_or_keeps_gated_as_the_owner_chose(
    console: ConsoleCommunity,
) -> None:
    await console.run("/onboarding gate on\n/join slow\n/join quick\n/as quick\n/click 1")
    await console.advance(timedelta(minutes=29))
    assert console.actions(Kick) == []
    await console.advance(timedelta(minutes=2))
    kicks = console.actions(Kick)
    assert [k.user_id for k in kicks if isinstance(k, Kick)] == ["slow"]
    assert "did not accept the rules" in private_to(console, "slow")[-1]
    assert not console.adapter.member("slow").present

    # "keep": the time-out passes and the member simply stays gated.
    await console.run("/as owner\n/config set onboarding.gate_timeout_action keep\n/join late")
    await console.advance(timedelta(hours=1))
    assert len(console.actions(Kick)) == 1
    assert console.adapter.member("late").restricted
    await console.run("/as late\n/click 1")
    assert not console.adapter.member("late").restricted


async def test_gate_time_out_survives_a_restart(console: ConsoleCommunity) -> None:
    await console.run("/onboarding gate on\n/join slow")
    await console.restart()
    await console.advance(timedelta(minutes=31))
    assert [k.user_id for k in console.actions(Kick) if isinstance(k, Kick)] == ["slow"]
    # The run claim: firing the same run again does nothing.
    assert await scalar(console, "SELECT count(*) FROM job_run WHERE job = 'onboarding.gate'") == 1


async def test_nudge_is_sent_once_and_not_to_a_member_who_posted(
    console: ConsoleCommunity,
) -> None:
    await console.run(
        "/onboarding set nudge Hi {member}, tell us about your week in #introductions!"
    )
    await console.run("/join quiet\n/join talker\n/say talker hi all")
    await console.advance(timedelta(days=2, hours=23))
    assert not any("#introductions" in t for t in private_to(console, "quiet"))
    await console.advance(timedelta(hours=2))
    nudges = [t for t in private_to(console, "quiet") if "#introductions" in t]
    assert nudges == ["Hi @quiet, tell us about your week in #introductions!"]
    assert not any("#introductions" in t for t in private_to(console, "talker"))
    # Once, never again: not later, and not after leaving and rejoining.
    await console.run("/leave quiet")
    await console.advance(timedelta(days=2))
    await console.run("/join quiet")
    await console.advance(timedelta(days=10))
    assert len([t for t in private_to(console, "quiet") if "#introductions" in t]) == 1


async def test_nudge_checks_activity_even_when_this_process_missed_the_message(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join dana")
    # The first-message watch is per process; another process may have seen the message.
    console.app.services.state(Runtime).watching.clear()
    await console.run("/say dana hello from another worker")
    await engagement(console.app.services).flush()  # as that worker does every few seconds
    await console.advance(timedelta(days=4))
    assert not any("we'd love to hear from you" in t for t in private_to(console, "dana"))


async def test_rejoin_within_the_window_is_not_welcomed_twice(console: ConsoleCommunity) -> None:
    await console.run("/join dana\n/leave dana")
    await console.advance(timedelta(hours=5))
    await console.run("/join dana")
    assert len(console.actions(Send)) == 1
    assert len(directs_to(console, "dana")) == 1
    # After the window, a new welcome.
    await console.run("/leave dana")
    await console.advance(timedelta(days=2))
    await console.run("/join dana")
    assert len(console.actions(Send)) == 2
    await console.run("/as owner\n/onboarding stats")
    assert "2 members joined" not in console.last_text()


async def test_after_a_restart_a_rejoin_or_a_repeated_join_is_still_not_welcomed(
    console: ConsoleCommunity,
) -> None:
    # The welcome is decided from memory: who is here and who left recently are loaded
    # at start, so a restart forgets neither.
    await console.run("/onboarding gate on\n/join dana\n/join noa\n/leave dana")
    await console.restart()
    rt = console.app.services.state(Runtime)
    dana, noa = _member(console, "dana"), _member(console, "noa")
    assert dana is not None and noa is not None
    assert dana.id in rt.left and noa.id in rt.here
    await console.advance(timedelta(hours=5))
    console.clear()
    await console.run("/join dana\n/join noa")
    assert console.actions(Send) == [] and console.actions(SendDirect) == []
    # Dana is back within the window and had not accepted: gated again, not welcomed.
    assert [a.user_id for a in console.actions(Restrict) if isinstance(a, Restrict)] == ["dana"]
    await console.run("/as owner\n/onboarding stats")
    assert "2 members joined" in console.last_text()


async def test_stale_memory_errs_on_the_side_of_welcoming(console: ConsoleCommunity) -> None:
    # Another process saw her leave, two days ago: this one still believes she is here.
    await console.run("/onboarding gate on\n/join dana\n/leave dana")
    dana = _member(console, "dana")
    assert dana is not None
    rt = console.app.services.state(Runtime)
    rt.left.clear()
    rt.here.add(dana.id)
    await console.advance(timedelta(days=2))
    console.clear()
    await console.run("/join dana")
    # The database says she left outside the window: welcomed and gated, only later.
    assert len(console.actions(Send)) == 1 and len(directs_to(console, "dana")) == 1
    assert console.adapter.member("dana").restricted
    await console.run("/as dana\n/click 1")
    assert not console.adapter.member("dana").restricted


async def test_bots_and_pending_members_wait_for_screening(console: ConsoleCommunity) -> None:
    app = console.app
    at = console.clock.now()
    bot = Actor(user_id="robot", display_name="robot", is_bot=True)
    await app.dispatch(MemberJoined(platform="console", space_id="console", actor=bot, at=at))
    pending = Actor(user_id="pat", display_name="pat")
    console.adapter.member("pat")
    await app.dispatch(
        MemberJoined(platform="console", space_id="console", actor=pending, at=at, pending=True)
    )
    assert console.actions(Send) == [] and console.actions(SendDirect) == []
    await app.dispatch(
        MemberScreeningPassed(platform="console", space_id="console", actor=pending, at=at)
    )
    (welcome,) = console.actions(Send)
    assert isinstance(welcome, Send) and "@pat" in welcome.text.plain()
    assert len(directs_to(console, "pat")) == 1


async def test_a_surge_pauses_welcomes_keeps_the_gate_and_alerts_once(
    console: ConsoleCommunity,
) -> None:
    await console.run(
        "/onboarding gate on\n/config set moderation.surge_per_minute 3\n"
        "/config set moderation.alert_channel mods"
    )
    console.clear()
    await console.run("\n".join(f"/join spam{i}" for i in range(12)))
    # The first three are welcomed; then welcomes stop.
    assert len(console.actions(Send)) == 3 + 1  # three welcomes and one alert
    alerts = console.seen_by("#mods")
    assert len(alerts) == 1 and "Join surge" in alerts[0]
    assert len([a for a in console.actions(SendDirect)]) == 3
    # Everyone is gated, welcomed or not.
    assert all(console.adapter.member(f"spam{i}").restricted for i in range(12))
    # Ten minutes after the surge, the paused private welcomes go out to those still here.
    await console.run("/leave spam11")
    await console.advance(timedelta(minutes=11))
    assert {a.user_id for a in console.actions(SendDirect) if isinstance(a, SendDirect)} == {
        f"spam{i}" for i in range(11)
    }
    assert len(console.seen_by("#mods")) == 1
    await console.run("/as spam7\n/click 1")
    assert not console.adapter.member("spam7").restricted


async def test_surge_alert_goes_to_owners_without_a_moderators_channel(
    console: ConsoleCommunity,
) -> None:
    await console.run("/config set moderation.surge_per_minute 2")
    console.clear()
    await console.run("/join a1\n/join a2\n/join a3\n/join a4")
    assert len([t for t in private_to(console, "owner") if "Join surge" in t]) == 1


async def test_restart_mid_questions_resumes_and_old_buttons_still_work(
    console: ConsoleCommunity,
) -> None:
    await console.run(QUESTIONS + "/join dana\n/as dana\n/click 1")
    assert "Question 1 of 2" in private_to(console, "dana")[-1]
    await console.restart()
    await console.run("/click 3")  # "Selling", on the message shown before the restart
    assert "seller" in console.adapter.member("dana").roles
    assert "Question 2 of 2" in private_to(console, "dana")[-1]
    await console.restart()
    # The free-text question is still awaited after a second restart.
    await console.run("/dm I make ceramics")
    assert "Thank you for your answers!" in private_to(console, "dana")[-1]
    assert await scalar(console, "SELECT text FROM onboarding_answer WHERE text IS NOT NULL") == (
        "I make ceramics"
    )


async def test_skipping_and_stale_buttons(console: ConsoleCommunity) -> None:
    await console.run(QUESTIONS + "/join dana\n/as dana\n/click 1\n/click 4")
    assert "Question 2 of 2" in private_to(console, "dana")[-1]
    await console.run("/click 1")  # Skip the free-text question
    assert "Thank you for your answers!" in private_to(console, "dana")[-1]
    skipped = await scalar(console, "SELECT count(*) FROM onboarding_answer WHERE skipped")
    assert skipped == 2
    await console.run("/as owner\n/onboarding stats")
    assert "1 member joined → 1 accepted → 0 answered" in console.last_text()


async def test_templates_refuse_unknown_placeholders(console: ConsoleCommunity) -> None:
    await console.run("/onboarding set welcome Hi {name}, meet {community}")
    refusal = console.last_text()
    assert "{name}" in refusal
    assert "{member}, {community}, {rules}, {inviter}" in refusal
    await console.run("/config set onboarding.dm Hello {who}")
    assert "not valid" in console.last_text()
    await console.run("/onboarding set rules Be nice in {community}.")
    await console.run("/onboarding set dm Shalom {member}! {rules} ({inviter} invited you)")
    console.clear()
    await console.run("/join dana")
    (dm,) = directs_to(console, "dana")
    assert dm.text.plain() == "Shalom @dana! Be nice in Test Community. (a friend invited you)"


async def test_dms_closed_fall_back_to_the_channel_and_still_count(
    console: ConsoleCommunity,
) -> None:
    console.adapter.member("dana").dms_open = False
    await console.run("/join dana")
    carried = "@dana, I could not send you a direct message, so here it is:\nHi @dana"
    assert any(t.startswith(carried) for t in console.seen_by("#general"))
    await console.run("/as dana\n/click 1\n/as owner\n/onboarding stats")
    assert "1 member joined → 1 accepted" in console.last_text()


async def test_welcomes_speak_the_community_language(console: ConsoleCommunity) -> None:
    await console.run("/config set locale de\n/join lena")
    (welcome,) = console.actions(Send)
    assert isinstance(welcome, Send)
    expected = gettext("de", "Welcome to {community}, {member}! We're glad you're here.")
    assert expected != "Welcome to {community}, {member}! We're glad you're here."
    assert welcome.text.plain() == expected.format(community="Test Community", member="@lena")


async def test_owner_test_plays_the_flow_privately_and_stores_nothing(
    console: ConsoleCommunity,
) -> None:
    await console.run(QUESTIONS + "/onboarding gate on")
    console.clear()
    await console.run("/onboarding test\n/click 1\n/click 2\n/dm I run the place")
    assert console.actions(Send) == []
    assert console.actions(Restrict) == [] and console.actions(AssignRole) == []
    last = private_to(console, "owner")[-1]
    assert "nothing was stored" in last and "we'd love to hear from you" in last
    assert await scalar(console, "SELECT count(*) FROM onboarding_answer") == 0
    await console.run("/onboarding stats")
    assert "1 member joined" not in console.last_text()


async def test_question_commands_limits_and_removal(console: ConsoleCommunity) -> None:
    for i in range(5):
        await console.run(f"/onboarding question add Question {i}?")
    await console.run("/onboarding question add One too many?")
    assert "Remove one first" in console.last_text()
    await console.run("/onboarding question add Pick | only one")
    assert "at least two choices" in console.last_text()
    # Choices written with commas are one choice: the answer shows how to write them.
    await console.run("/onboarding question add Where from? | a friend, Instagram, Google")
    assert "each after a |: Where did you hear of us? | a friend | Instagram." in (
        console.last_text()
    )
    await console.run("/onboarding question remove 2\n/onboarding question list")
    listed = console.last_text()
    assert "Question 1?" not in listed and "Question 0?" in listed and "Question 4?" in listed


async def test_forgetme_removes_answers_and_onboarding_state(console: ConsoleCommunity) -> None:
    await console.run(QUESTIONS + "/join dana\n/as dana\n/click 1\n/click 1\n/mydata")
    await console.run("/forgetme\n/click 1")
    assert await scalar(console, "SELECT count(*) FROM onboarding_answer") == 0
    assert await scalar(console, "SELECT count(*) FROM onboarding_state") == 0
    assert (
        await scalar(console, "SELECT count(*) FROM job_schedule WHERE job LIKE 'onboarding.%'")
        == 0
    )


def _member(console: ConsoleCommunity, user: str) -> MemberRef | None:
    directory = console.app.directory
    info = directory.community_of("console", "console")
    assert info is not None
    return directory.member(info.id, "console", user)


def _join_event(user: str) -> MemberJoined:
    from tests.conftest import START

    return MemberJoined(
        platform="console",
        space_id="console",
        actor=Actor(user_id=user, display_name=user),
        at=START,
    )
