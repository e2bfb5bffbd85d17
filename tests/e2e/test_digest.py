"""The weekly digest end to end: console harness, fake clock, real database."""

from __future__ import annotations

import asyncio
import csv
import io
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from adapters.console.community import ConsoleCommunity
from bot.actions import Reply, SendDirect
from bot.config import Config
from bot.events import Actor, MessagePosted
from bot.features.engagement import engagement
from storage.database import Database
from storage.engagement import week_number
from storage.unit_of_work import UnitOfWork
from tests.conftest import START

# START is Monday 2 March 2026, 08:00 UTC.


def digests(console: ConsoleCommunity, name: str = "owner") -> list[SendDirect]:
    return [
        p.action
        for p in console.performed
        if isinstance(p.action, SendDirect)
        and p.audience == f"@{name}"
        and "Weekly digest" in p.action.text.plain()
    ]


def digests_in_any_language(console: ConsoleCommunity) -> list[SendDirect]:
    """What the owner got with a chart attached: the digests, in whatever language."""
    return [
        p.action
        for p in console.performed
        if isinstance(p.action, SendDirect) and p.audience == "@owner" and p.action.attachments
    ]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def claimed_runs(console: ConsoleCommunity) -> list[datetime]:
    async with Database(console.config.database.url).session() as session:
        rows = await session.execute(
            text("SELECT scheduled_for FROM job_run WHERE job = 'engagement.digest' ORDER BY 1")
        )
        out = []
        for (value,) in rows:
            if isinstance(value, str):
                value = datetime.fromisoformat(value)
            out.append(value.replace(tzinfo=UTC))
        return out


async def a_busy_week(console: ConsoleCommunity, *, days: int = 7) -> None:
    """Dana and Noa talk every day, Eli replies now and then; the clock moves a day
    at a time (firing due jobs)."""
    for day in range(days):
        await console.run(
            "/say dana good morning\n/as noa\n/reply dana morning!\n/react\n"
            + ("/as eli\n/reply noa hi both\n" if day % 2 == 0 else "")
            + "/as owner\n/reply dana welcome back"
        )
        await console.advance(timedelta(days=1))


async def test_a_month_with_the_digest_on_monday_morning_local_time(
    console: ConsoleCommunity,
) -> None:
    await console.run("/config set timezone Europe/Berlin\n/join dana\n/join noa\n/join eli")
    for _ in range(4):
        await a_busy_week(console)
    sent = digests(console)
    # Mondays 9, 16, 23 and 30 March (the first Monday's run was before setup).
    assert len(sent) == 4
    runs = await claimed_runs(console)
    assert runs == [
        datetime(2026, 3, 9, 8, 0, tzinfo=UTC),  # 09:00 CET
        datetime(2026, 3, 16, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 23, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 7, 0, tzinfo=UTC),  # 09:00 CEST, after the change on the 29th
    ]
    body = sent[1].text.plain()
    assert "Weekly digest of Test Community" in body
    assert "Mar 9\u2009–\u200915" in body
    assert "Messages 25 (±0%) · replies 18 (±0%) · reactions 7 (±0%)" in body
    # noa → dana 7, eli → noa 4: between members; owner → dana 7.
    assert "Replies between members: 61% (±0); owners → members 39%, members → owners 0%" in body
    assert "Most active: noa (7), dana (7), eli (4)" in body
    assert "owner (" not in body
    first = sent[0].text.plain()
    assert "Newcomers: 3 of last week's 3 came back" not in first  # no previous week yet
    assert "First week" in first
    assert "Newcomers: 3 of last week's 3 came back this week (100%)" in sent[1].text.plain()
    chart = sent[-1].attachments[0]
    assert chart.mime_type == "image/png"
    assert png_size(chart.data) == (1080, 1350)


async def test_unanswered_questions_in_three_languages(console: ConsoleCommunity) -> None:
    await console.run("/join dana\n/join noa\n/join tamar\n/advance 1d")  # Tuesday
    await console.run(
        "/say tamar Does anyone know when the tasting starts?\n"
        "/say noa מתי הסדנה מתחילה\n/say dana Wie spät ist es\n/say noa Lovely day.\n"
        "/as tamar\n/reply dana now"
    )
    console.clear()
    await console.advance(timedelta(days=6, hours=1))  # Monday 9 March 09:00
    body = digests(console)[-1].text.plain()
    assert "Unanswered questions (no reply within 24 hours): 2" in body
    assert "Does anyone know when the tasting starts?" in body
    assert "מתי הסדנה מתחילה" in body
    assert "Wie spät" not in body  # tamar answered it
    assert "Lovely day" not in body  # not a question


async def test_the_same_question_asked_again_is_shown_once_with_its_count(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join dana\n/join noa\n/join tamar\n/advance 1d")  # Tuesday
    await console.run(
        "/say dana When does the market open?\n/say noa when does the market open\n"
        "/say tamar When does the MARKET open ??\n/say noa Where do we park?\n"
        "/say dana I was at the cafe yesterday\n/say noa Have a great weekend"
    )
    await console.advance(timedelta(days=6, hours=1))  # Monday 9 March 09:00
    body = digests(console)[-1].text.plain()
    assert "Unanswered questions (no reply within 24 hours): 2" in body
    assert body.lower().count("when does the market open") == 1
    assert "(asked 3 times)" in body
    assert "Where do we park?" in body
    assert "cafe" not in body and "weekend" not in body


@pytest.mark.parametrize(
    ("locale", "asked", "said", "heading", "quote"),
    [
        ("de", "Wann fängt der Markt an", "Wie schön!", "Unbeantwortete Fragen", "„{}“"),
        ("he", "מתי השוק נפתח", "כמה טוב לראות אתכם", "שאלות ללא מענה", '"{}"'),
    ],
)
async def test_questions_are_told_from_exclamations_in_the_community_s_language(
    console: ConsoleCommunity, locale: str, asked: str, said: str, heading: str, quote: str
) -> None:
    await console.run(f"/config set locale {locale}\n/join dana\n/join noa\n/advance 1d")
    await console.run(f"/say dana {asked}\n/say noa {said}\n/say noa {said}")
    await console.advance(timedelta(days=6, hours=1))
    body = digests_in_any_language(console)[-1].text.plain()
    assert heading in body
    assert quote.format(asked) in body  # quoted the language's way
    assert said not in body


async def test_a_member_drifts_after_four_active_weeks(console: ConsoleCommunity) -> None:
    await console.run("/join dana\n/join noa\n/join tamar")
    for week in range(5):
        for _day in range(7):
            lines = ["/say dana hi", "/as noa", "/reply dana hey"]
            if week < 4:
                lines += ["/say tamar still here", "/say tamar really"]
            await console.run("\n".join(lines))
            await console.advance(timedelta(days=1))
    await console.advance(timedelta(hours=1))  # Monday 6 April 09:00
    body = digests(console)[-1].text.plain()
    assert "Mar 30\u2009–\u2009Apr 5" in body
    assert "Drifting away (active the 4 weeks before, silent this week): tamar" in body


async def test_a_platform_without_message_text_is_named_not_counted_as_zero(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join dana")
    for i in range(3):
        await console.adapter.emit(
            MessagePosted(
                platform="console",
                space_id="console",
                actor=Actor("dana", "dana"),
                at=console.clock.now(),
                channel_id="general",
                message_id=f"x{i}",
                text=None,
            )
        )
    await console.advance(timedelta(days=7, hours=1))
    body = digests(console)[-1].text.plain()
    assert "I cannot tell, because the platform does not show me message text" in body
    assert "Every question got an answer" not in body


async def test_two_processes_on_one_database_send_the_digest_once(
    config: Config, tmp_path: Path
) -> None:
    first = ConsoleCommunity(config, start=START, files_dir=tmp_path / "a")
    await first.start(migrate=False)
    await first.run("/setup Shared\n/join dana\n/say dana hello there")
    # What the flusher does every couple of seconds in production (the fake clock does
    # not let real time pass): the other process must see these counts.
    await engagement(first.app.services).flush()
    second = ConsoleCommunity(config, start=START, files_dir=tmp_path / "b")
    await second.start(migrate=False)
    try:
        for _ in range(3):
            await asyncio.gather(
                first.advance(timedelta(days=7)), second.advance(timedelta(days=7))
            )
        sent = digests(first) + digests(second)
        # 2 March reports an empty week before setup (not sent); 9 and 16 March are.
        assert len(sent) == 2
        runs = await claimed_runs(first)
        assert len(runs) == len(set(runs)) == 3
    finally:
        await first.stop()
        await second.stop()


async def test_a_digest_missed_while_down_is_sent_once_late(console: ConsoleCommunity) -> None:
    await console.run("/join dana\n/say dana hello")
    await console.advance(timedelta(days=7))  # Monday 9 March 08:00 UTC: before the run
    assert digests(console) == []
    await console.app.stop()
    console.clock.set(datetime(2026, 3, 11, 12, 0, tzinfo=UTC))  # down over Monday 09:00
    await console.restart()
    sent = digests(console)
    assert len(sent) == 1
    assert "This digest is late" in sent[0].text.plain()
    assert "Mar 2\u2009–\u20098" in sent[0].text.plain()
    await console.restart()  # a new console: what it shows starts empty
    await console.advance(timedelta(days=2))
    assert digests(console) == []  # not sent again
    await console.advance(timedelta(days=5))  # Monday 16 March 09:00: on time again
    sent = digests(console)
    assert len(sent) == 1 and "late" not in sent[0].text.plain()


async def test_digest_settings_move_the_schedule(console: ConsoleCommunity) -> None:
    await console.run("/digest settings wed 18 owners+moderators")
    assert "every Wednesday at 18:00 (UTC) to the owners and moderators" in console.last_text()
    await console.run("/join dana\n/staff set moderator dana\n/say dana hi")
    console.clear()
    await console.advance(timedelta(days=9, hours=9, minutes=59))  # Wed 11 March 17:59
    assert digests(console) == []  # not on Monday 9 March any more
    await console.advance(timedelta(minutes=1))
    assert len(digests(console, "owner")) == 1 and len(digests(console, "dana")) == 1
    # The generic /config set also moves it: Friday at 07:00 now.
    await console.run("/config set digest.day fri\n/config set digest.hour 7")
    console.clear()
    await console.advance(timedelta(days=1, hours=13))  # Friday 13 March 07:00
    assert len(digests(console, "owner")) == 1
    await console.run("/digest settings someday 9")
    assert "Usage" in console.last_text()


async def test_digest_settings_shows_the_schedule_and_changes_what_is_given(
    console: ConsoleCommunity,
) -> None:
    await console.run("/digest settings")
    shown = console.last_text().splitlines()
    assert shown[0] == "The digest comes every Monday at 09:00 (UTC) to the owners."
    assert shown[2].startswith("/digest settings [mon|tue|wed|thu|fri|sat|sun] [HOUR]")
    await console.run("/digest settings 7")  # the hour alone: the day stays
    assert console.last_text() == (
        "The digest now comes every Monday at 07:00 (UTC) to the owners."
    )
    await console.run("/digest settings owners+moderators")
    assert console.last_text() == (
        "The digest now comes every Monday at 07:00 (UTC) to the owners and moderators."
    )
    await console.run("/digest settings someday")
    assert console.last_text().startswith(
        "someday is not a choice here: write mon, tue, wed, thu, fri, sat, or sun."
    )
    await console.run("/config show digest.hour")
    assert "Now: 7" in console.last_text()


@pytest.mark.parametrize(
    ("locale", "command", "day"),
    [
        ("de", "/digest settings Donnerstag 18", "Donnerstag"),
        ("de", "/digest settings Do. 18", "Donnerstag"),
        ("he", "/digest settings חמישי 18", "חמישי"),
        ("en", "/config set digest.day Thursday\n/digest settings thu 18", "Thursday"),
        ("he", "/config set digest.day יום חמישי\n/digest settings thu 18", "חמישי"),
    ],
)
async def test_the_digests_weekday_is_understood_in_the_owners_language(
    console: ConsoleCommunity, locale: str, command: str, day: str
) -> None:
    await console.run(f"/config set locale {locale}\n{command}")
    assert day in console.last_text() and "18:00" in console.last_text()
    # A digest comes for a week with something in it: this one, sent next Thursday.
    await console.run("/join dana\n/say dana hi")
    console.clear()
    await console.advance(timedelta(days=10, hours=9, minutes=59))  # Thursday 12 March 17:59
    assert digests_in_any_language(console) == []
    await console.advance(timedelta(minutes=1))
    assert len(digests_in_any_language(console)) == 1


async def test_config_names_the_digests_weekday_in_the_communitys_language(
    console: ConsoleCommunity,
) -> None:
    await console.run("/config set locale de\n/config set digest.day thu")
    assert console.last_text() == "digest.day ist jetzt Donnerstag."
    await console.run("/digest settings Eigentümer und Moderatoren")  # the names as words
    assert console.last_text() == (
        "Die Übersicht kommt jetzt jeden Donnerstag um 09:00 Uhr (UTC) "
        "an die Eigentümer und Moderatoren."
    )
    await console.run("/config show digest.day")
    shown = console.last_text().split("\n")
    assert "Aktuell: Donnerstag" in shown and "Voreinstellung: Montag" in shown
    assert (
        "Mögliche Werte: Montag | Dienstag | Mittwoch | Donnerstag | Freitag | Samstag | Sonntag"
        in shown
    )
    # What it shows is what it takes back, in Hebrew too.
    await console.run("/config set locale he\n/config set digest.day יום שישי")
    assert "יום שישי" in console.last_text() and "fri" not in console.last_text()
    await console.run("/digest settings")
    assert "שישי" in console.last_text()


async def test_digest_now_previews_to_the_caller_only(console: ConsoleCommunity) -> None:
    await console.run("/join dana\n/say dana hello?\n/advance 7d")
    console.clear()
    await console.run("/digest now")
    reply = console.actions(Reply)[-1]
    assert isinstance(reply, Reply) and reply.private
    assert "Weekly digest of Test Community" in reply.text.plain()
    assert png_size(reply.attachments[0].data) == (1080, 1350)
    await console.run("/as dana\n/digest now")
    assert "Only owners can use /digest" in console.last_text()


async def test_export_activity_csv(console: ConsoleCommunity) -> None:
    await console.run("/join dana\n/say dana one\n/say dana two\n/as owner\n/export activity 4")
    reply = console.actions(Reply)[-1]
    assert isinstance(reply, Reply)
    rows = list(csv.DictReader(io.StringIO(reply.attachments[0].data.decode("utf-8-sig"))))
    dana = next(r for r in rows if r["member"] == "dana")
    assert dana["messages"] == "2" and dana["active_days"] == "1"
    assert dana["week_start"] == "2026-03-02"


async def test_export_does_not_hand_a_spreadsheet_a_formula(console: ConsoleCommunity) -> None:
    """A member who calls themselves `=SUM(1+1)` is a name in the owner's spreadsheet,
    not a formula it runs."""
    await console.run("/join =SUM(1+1)\n/say =SUM(1+1) hi\n/as owner\n/export activity")
    reply = console.actions(Reply)[-1]
    assert isinstance(reply, Reply)
    rows = list(csv.reader(io.StringIO(reply.attachments[0].data.decode("utf-8-sig"))))
    [member] = [r[2] for r in rows[1:] if "SUM" in r[2]]
    assert member == "'=SUM(1+1)"


async def test_questions_are_forgotten_with_the_member_and_after_30_days(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join dana\n/join noa\n/say dana what time is it?\n/say noa why?")
    await console.advance(timedelta(days=1))

    async def excerpts() -> list[str]:
        async with Database(console.config.database.url).session() as session:
            return list(
                (await session.execute(text("SELECT excerpt FROM digest_question ORDER BY 1")))
                .scalars()
                .all()
            )

    assert await excerpts() == ["what time is it?", "why?"]
    await console.run("/as dana\n/forgetme\n/click 1")
    assert await excerpts() == ["why?"]
    await console.advance(timedelta(days=31))
    assert await excerpts() == []


async def test_setup_schedules_the_digest_at_once(console: ConsoleCommunity) -> None:
    """The `console` fixture ran /setup; nothing else happened since."""
    assert "engagement.digest" in {e.job for e in console.app.services.timer.entries.values()}  # type: ignore[attr-defined]
    async with Database(console.config.database.url).session() as session:
        jobs = (await session.execute(text("SELECT job FROM job_schedule"))).scalars().all()
    assert "engagement.digest" in jobs


async def test_active_weeks_are_recorded_once_a_week_and_survive_a_failed_run(
    console: ConsoleCommunity,
) -> None:
    """The flush records a member's active week in `active_weeks` (what the digest reads
    monthly active and drifting members from) once per week and process, not at every
    flush; counts given back by a failed digest run are recorded at the next flush."""
    db = console.app.services.db
    state = engagement(console.app.services)
    writes: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT INTO active_weeks"):
            writes.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)

    async def recorded() -> dict[str, tuple[int, int]]:
        async with db.session() as session:
            rows = await session.execute(
                text(
                    "SELECT display_name, last_week, weeks FROM active_weeks"
                    " JOIN member ON member.id = member_id"
                )
            )
            return {name: (last, weeks) for name, last, weeks in rows}

    this_week = week_number(START.date())
    await console.run("/join dana\n/say dana hello")
    await state.flush()
    assert await recorded() == {"dana": (this_week, 1)} and len(writes) == 1
    await console.run("/say dana again")
    await state.flush()
    assert len(writes) == 1  # the same week again: nothing to record
    # A unit of work that does not commit (a failing digest run) gives its counts back.
    await console.run("/join noa\n/say noa hi")
    async with UnitOfWork(db) as uow:
        await state.flush(uow)
        await uow.rollback()
    state.give_back()
    await state.flush()
    assert (await recorded())["noa"] == (this_week, 1)
    # The next week (the digest job flushes in its own unit of work on Monday).
    await console.advance(timedelta(days=7))
    await console.run("/say dana back again")
    await console.advance(timedelta(hours=2))
    assert digests(console)
    await state.flush()
    assert await recorded() == {"dana": (this_week + 1, 0b11), "noa": (this_week, 1)}
    await console.run("/as dana\n/forgetme\n/click 1")
    assert set(await recorded()) == {"noa"}


async def test_counts_flushed_into_a_digest_run_that_cannot_commit_are_kept(
    console: ConsoleCommunity,
) -> None:
    """The digest job writes the counts still in memory in its own transaction. When
    that transaction cannot commit (here the database refuses the job's last write,
    after the digest was built), the counts go back to memory and reach the database
    with the next flush: nothing is lost, and no digest goes out."""
    db = console.app.services.db
    fail = {
        "sqlite": [
            "CREATE TRIGGER refuse_digest BEFORE UPDATE ON job_schedule"
            " WHEN NEW.job = 'engagement.digest' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        ],
        "postgresql": [
            "CREATE FUNCTION refuse_digest() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$",
            "CREATE TRIGGER refuse_digest BEFORE UPDATE ON job_schedule FOR EACH ROW"
            " WHEN (NEW.job = 'engagement.digest') EXECUTE FUNCTION refuse_digest()",
        ],
    }[db.dialect]
    heal = {
        "sqlite": ["DROP TRIGGER refuse_digest"],
        "postgresql": [
            "DROP TRIGGER refuse_digest ON job_schedule",
            "DROP FUNCTION refuse_digest()",
        ],
    }[db.dialect]

    async def run_sql(statements: list[str]) -> None:
        async with db.engine.begin() as conn:
            for statement in statements:
                await conn.exec_driver_sql(statement)

    async def messages_of(name: str) -> int:
        async with db.session() as session:
            total = await session.scalar(
                text(
                    "SELECT coalesce(sum(messages), 0) FROM activity_daily"
                    " JOIN member ON member.id = activity_daily.member_id"
                    " WHERE member.display_name = :name"
                ),
                {"name": name},
            )
        return int(total or 0)

    await console.run("/join dana\n/say dana hello")
    await console.advance(timedelta(days=7))  # the first digest went out (Monday 09:00)
    sent = len(digests(console))
    before = await messages_of("dana")
    await console.run("/say dana one\n/say dana two\n/say dana three")
    await run_sql(fail)
    await console.advance(timedelta(days=7))  # this digest run fails at its last write
    await run_sql(heal)
    assert len(digests(console)) == sent
    await engagement(console.app.services).flush()
    assert await messages_of("dana") == before + 3


@pytest.mark.parametrize(
    ("locale", "weeks", "members", "expected"),
    [
        ("en", 1, 1, "Weekly activity per member, 1 week from Mar 2, 2026: 1 row."),
        ("en", 2, 2, "Weekly activity per member, 2 weeks from Feb 23, 2026: 2 rows."),
        ("de", 1, 1, "Wöchentliche Aktivität pro Mitglied, 1 Woche ab 02.03.2026: 1 Zeile."),
        ("de", 3, 2, "Wöchentliche Aktivität pro Mitglied, 3 Wochen ab 16.02.2026: 2 Zeilen."),
        ("he", 1, 1, "פעילות שבועית לפי חבר/ה, שבוע אחד החל מ־2 במרץ 2026: שורה אחת."),
        ("he", 2, 2, "פעילות שבועית לפי חבר/ה, שבועיים החל מ־23 בפבר׳ 2026: שתי שורות."),
        ("he", 5, 3, "פעילות שבועית לפי חבר/ה, 5 שבועות החל מ־2 בפבר׳ 2026: 3 שורות."),
    ],
)
async def test_export_counts_weeks_and_rows_in_the_community_s_language(
    console: ConsoleCommunity, locale: str, weeks: int, members: int, expected: str
) -> None:
    names = ["dana", "noa", "eli"][:members]
    await console.run(f"/config set locale {locale}")
    await console.run("\n".join(f"/join {n}\n/say {n} hi" for n in names))
    await console.run(f"/as owner\n/export activity {weeks}")
    reply = console.actions(Reply)[-1]
    assert isinstance(reply, Reply)
    assert reply.text.plain() == expected


@pytest.mark.parametrize(
    ("locale", "first", "second"),
    [
        ("en", ["(+2: 2 joined, 0 left)"],
               ["(+1: 1 joined, 0 left)",
                "🌱 Newcomers: 1 of last week's 2 came back this week (50%)"]),
        ("de", ["(+2: 2 beigetreten, 0 ausgetreten)"],
               ["(+1: 1 beigetreten, 0 ausgetreten)",
                "🌱 Neuzugänge: 1 von 2 aus der Vorwoche war diese Woche wieder da (50\xa0%)"]),
        ("he", ["(+2: שתי הצטרפויות, 0 עזיבות)"],
               ["(+1: הצטרפות אחת, 0 עזיבות)",
                "🌱 מצטרפים חדשים: 1 מתוך 2 מהשבוע שעבר חזר/ה השבוע (50%)"]),
    ],
)  # fmt: skip
async def test_the_digest_s_counts_agree_with_their_number_in_three_languages(
    console: ConsoleCommunity, locale: str, first: list[str], second: list[str]
) -> None:
    """Two join the first week; the next week one more joins and one of the two comes
    back. Hebrew has a form for two; a verb agrees with its number in German."""
    await console.run(f"/config set locale {locale}\n/join dana\n/join noa")
    await console.advance(timedelta(days=7))  # Monday 9 March 08:00: the next week
    await console.run("/say dana back\n/join eli")
    await console.advance(timedelta(days=7, hours=1))  # Monday 16 March 09:00
    sent = [d.text.plain() for d in digests_in_any_language(console)]
    assert len(sent) == 2
    assert all(line in sent[0] for line in first), sent[0]
    assert all(line in sent[1] for line in second), sent[1]


async def test_the_database_takes_other_writes_while_a_digest_is_drawn(
    console: ConsoleCommunity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 09:00 every community's digest is built; drawing a chart takes the longest.
    Meanwhile the database takes other writes (members' counts, the next digest's
    claim): on SQLite the digest's run holds the write lock only for its own writes
    at the end, not while its chart is drawn."""
    from bot.context import store_schedule
    from bot.features.engagement.drawing import ChartDrawer
    from bot.schedule import ScheduleEntry

    drawer = console.app.services.state(ChartDrawer)
    draw = drawer.draw
    written: list[str] = []

    async def write_while_drawing(data: Any, locale: str) -> bytes:
        async def other_write() -> None:
            async with UnitOfWork(console.app.services.db) as uow:
                entry = ScheduleEntry("test.other", "k", None, run_at=console.clock.now())
                await store_schedule(uow, entry, console.clock.now())
                await uow.commit()

        await asyncio.wait_for(other_write(), timeout=10)
        written.append("meanwhile")
        return await draw(data, locale)

    monkeypatch.setattr(drawer, "draw", write_while_drawing)
    await console.run("/join dana\n/say dana hello")
    await engagement(console.app.services).flush()
    await console.advance(timedelta(days=7, hours=1))  # Monday 9 March, 09:00 local
    assert written == ["meanwhile"]
    assert len(digests(console)) == 1
