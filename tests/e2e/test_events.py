"""Community events through the console adapter and the fake clock: create with a
confirmation, RSVPs with a waitlist and promotion, reminders across a restart and
the late rule, cancel and edit of one date, privacy hooks, the .ics file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from icalendar import Calendar
from sqlalchemy import text

from adapters.console.community import ConsoleCommunity
from bot.actions import Edit, Reply, Send, SendDirect
from bot.config import Config
from bot.features import all_features
from storage.database import Database
from tests.conftest import START

# The console starts on Monday 2026-03-02 08:00 UTC.
CREATE = "/event create Board games | Thursday 19:00 | 2h | Café Lev | 2 | Bring a game"


async def scalar(console: ConsoleCommunity, sql: str) -> object:
    db = Database(console.config.database.url)
    try:
        async with db.session() as session:
            return await session.scalar(text(sql))
    finally:
        await db.dispose()


def plain(text: str) -> str:
    """Babel's narrow spaces ("7:00\u202fPM") as plain ones."""
    return text.replace("\u202f", " ").replace("\u2009", " ")


def card(console: ConsoleCommunity) -> str:
    """The event's card as it reads now: the last post or edit of it."""
    shown = [p.text for p in console.performed if isinstance(p.action, Send | Edit)]
    return shown[-1]


async def post_event(console: ConsoleCommunity, line: str = CREATE) -> None:
    await console.run("/config set timezone Europe/Berlin\n" + line)
    preview = plain(console.seen_by("@owner")[-1])
    assert "Thursday, March 5, 2026, 7:00 PM" in preview
    assert "Europe/Berlin" in preview
    await console.run("/click 1")


async def test_create_shows_what_was_understood_and_posts_on_confirm(
    console: ConsoleCommunity,
) -> None:
    await console.run("/config set timezone Europe/Berlin\n" + CREATE)
    preview = console.seen_by("@owner")[-1]
    assert "Here is how I understood it" in preview
    assert "Thursday, March 5, 2026, 7:00 PM–9:00 PM" in plain(preview)
    assert "Capacity: 2 seats" in preview
    assert console.seen_by("#general") == []  # nothing posted before the confirmation
    await console.run("/click 1")
    posted = console.seen_by("#general")[-1]
    assert "Board games" in posted and "Where: Café Lev" in posted
    assert "0 going · 2 seats left" in posted
    assert "[1] Going" in posted


async def test_a_duration_or_capacity_left_out_on_one_line_is_not_taken_for_another_field(
    console: ConsoleCommunity,
) -> None:
    await console.run("/event create Lunch | Thursday 12:00 | Café Lev | 12 | Bring a friend")
    preview = console.seen_by("@owner")[-1]
    assert "Duration: 2 hours" in preview and "Where: Café Lev" in preview
    assert "Capacity: 12 seats" in preview and "Bring a friend" in preview
    await console.run("/event create Lunch | Thursday 12:00 | Café Lev | Bring a friend")
    preview = console.seen_by("@owner")[-1]
    assert "Where: Café Lev" in preview and "Capacity" not in preview
    # Meant as a duration or a capacity: told, not taken for the place.
    for line, expected in [
        ("/event create Lunch | Thursday 12:00 | zwei Stunden | Café", "The duration “zwei"),
        ("/event create Lunch | Thursday 12:00 | 2 hourz | Café", "The duration “2 hourz”"),
        ("/event create Lunch | Thursday 12:00 | Café | 10 seats", "The capacity “10 seats”"),
    ]:
        await console.run(line)
        assert console.seen_by("@owner")[-1].startswith(expected), line


async def test_unreadable_past_and_absurd_input_stores_nothing(console: ConsoleCommunity) -> None:
    for line, expected in [
        ("/event create Lunch | someday soon", "could not read"),
        ("/event create Lunch | yesterday 12:00", "in the past"),
        ("/event create Lunch | Thursday", "no time of day"),
        ("/event create Lunch | Friday 5.3 12:00", "does not fall on that date"),
        ("/event create Lunch | Thursday 12:00 | 30d", "duration"),
        ("/event create Lunch | Thursday 12:00 | 1h | here | -4", "whole number from 1 to 100,000"),
        ("/event create Lunch | Thursday 12:00 | 1h | | | | daily 4", "repeat"),
        ("/event create Lunch | Thursday 12:00 | 1h | | | | weekly", "count or an end date"),
    ]:
        await console.run(line)
        reply = console.seen_by("@owner")[-1]
        assert expected in reply, (line, reply)
        assert "Nothing was stored." in reply
    assert await scalar(console, "SELECT count(*) FROM event_series") == 0


async def test_members_may_not_create(console: ConsoleCommunity) -> None:
    await console.run("/as dana\n" + CREATE)
    assert await scalar(console, "SELECT count(*) FROM event_series") == 0


async def test_waitlist_promotion_and_live_count(console: ConsoleCommunity) -> None:
    await post_event(console)
    await console.run("/as dana\n/click 1")
    assert "You are going to Board games" in console.seen_by("@dana")[-1]
    assert "1 going · 1 seat left" in card(console)
    await console.run("/as noa\n/click 1\n/as avi\n/click 1")
    assert "number 1 on the waitlist" in console.seen_by("@avi")[-1]
    assert "2 going · full" in card(console) and "1 on the waitlist" in card(console)
    await console.run("/as dana\n/click 3")  # can't go after all: avi moves up
    assert "A seat came free: you are going to Board games" in console.seen_by("@avi")[-1]
    assert "2 going · full" in card(console)
    assert "waitlist" not in card(console)
    await console.run("/as owner\n/event attendees 1")
    listing = console.seen_by("@owner")[-1]
    assert "Going (2):" in listing and "noa" in listing and "avi" in listing
    assert "Can't go (1):" in listing and "dana" in listing


async def test_owner_adds_and_removes_and_members_list_their_events(
    console: ConsoleCommunity,
) -> None:
    await post_event(console)
    await console.run("/say dana hi\n/say noa hi\n/say avi hi")
    await console.run("/as owner\n/event add 1 dana\n/event add 1 @noa\n/event add 1 avi")
    assert "number 1 on the waitlist" in console.seen_by("@owner")[-1]
    await console.run("/event remove 1 noa")
    assert "A seat came free" in console.seen_by("@avi")[-1]
    await console.run("/as avi\n/events")
    mine = console.seen_by("@avi")[-1]
    assert "Board games" in mine and "you are going" in mine
    await console.run("/event list")  # the same, where owners look for it
    assert console.seen_by("@avi")[-1] == mine


async def test_every_command_names_members_alike(console: ConsoleCommunity) -> None:
    await post_event(console)
    await console.run("/say dana hi\n/say noa hi")
    await console.run("/as owner\n/event add 1 nobody\n/staff set moderator nobody")
    assert console.seen_by("@owner")[-2:] == ["No member is called nobody."] * 2
    await console.run("/event add 1 DANA")  # a name in any case
    assert "dana is going to Board games." in console.seen_by("@owner")[-1]
    async with console.app.services.db.session() as session:  # two members called Noa
        await session.execute(
            text("UPDATE member SET display_name = 'Noa' WHERE display_name = 'dana'")
        )
        await session.execute(
            text("UPDATE member SET display_name = 'Noa' WHERE display_name = 'noa'")
        )
        await session.commit()
    await console.run("/event remove 1 noa\n/staff set moderator noa\n/referrals show noa")
    several = "Several members are called noa; ask them to change their display name first."
    assert console.seen_by("@owner")[-3:] == [several] * 3
    assert "1 going" in card(console)  # nothing was changed: dana is still on the list


async def test_reminders_fan_out_through_the_outbox_and_survive_a_restart(
    console: ConsoleCommunity,
) -> None:
    await post_event(console)
    await console.run("/as dana\n/click 1\n/as noa\n/click 1")
    await console.run("/as noa\n/event reminders off")
    # Thursday 19:00 Berlin is 18:00 UTC; the 24h reminder is due Wednesday 18:00 UTC.
    await console.advance(timedelta(days=2, hours=9, minutes=59))
    assert not any("Reminder" in t for t in console.seen_by("@dana"))
    await console.restart()
    await console.advance(timedelta(minutes=2))
    reminders = [t for t in console.seen_by("@dana") if "Reminder" in t]
    assert len(reminders) == 1 and "starts in 1 day" in reminders[0]
    assert not any("Reminder" in t for t in console.seen_by("@noa"))  # opted out
    assert await scalar(console, "SELECT count(*) FROM outbox WHERE state = 'sent'") >= 1
    await console.advance(timedelta(hours=23))
    reminders = [t for t in console.seen_by("@dana") if "Reminder" in t]
    assert len(reminders) == 2 and "starts in 1 hour" in reminders[1]


async def test_a_reminder_missed_while_down_goes_late_only_before_the_start(
    console: ConsoleCommunity,
) -> None:
    await post_event(console)
    await console.run("/as dana\n/click 1")
    await console.app.stop()
    # Down over the 24h reminder (Wednesday 18:00 UTC); back on Thursday 12:00 UTC.
    console.clock.set(datetime(2026, 3, 5, 12, 0, tzinfo=UTC))
    await console.restart()
    late = [t for t in console.seen_by("@dana") if "Reminder" in t]
    assert len(late) == 1 and "starts in 6 hours" in late[0]
    await console.app.stop()
    # Down over the 1h reminder and the start: nothing goes out late.
    console.clock.set(datetime(2026, 3, 5, 18, 30, tzinfo=UTC))
    await console.restart()
    assert [t for t in console.seen_by("@dana") if "Reminder" in t] == []


async def test_cancel_one_date_of_a_weekly_series_tells_attendees(
    console: ConsoleCommunity,
) -> None:
    await post_event(console, CREATE + " | weekly 4")
    preview = console.seen_by("@owner")[-2]
    assert "every week, 4 dates" in preview
    await console.run("/as dana\n/click 1\n/as owner\n/event cancel 1")
    assert "Cancelled 1 date." in console.seen_by("@owner")[-1]
    assert any("Cancelled: Board games" in t for t in console.seen_by("@dana"))
    assert "Cancelled." in card(console) and "[1] Going" not in card(console)
    assert "1 going" not in card(console)  # answers to a cancelled date count for nothing
    # The next date is posted when the cancelled one would have ended.
    await console.advance(timedelta(days=3, hours=12))
    assert "Thursday, March 12, 2026" in console.seen_by("#general")[-1]
    assert (
        await scalar(console, "SELECT count(*) FROM event_occurrence WHERE cancelled_at IS NULL")
        == 3
    )


async def test_edit_place_of_the_series_and_ics(console: ConsoleCommunity, tmp_path: Path) -> None:
    await post_event(console, CREATE + " | weekly 3")
    await console.run("/as dana\n/click 1\n/as owner\n/event edit 1 series place Community hall")
    assert "Changed 3 dates." in console.seen_by("@owner")[-1]
    assert any("New place for Board games: Community hall" in t for t in console.seen_by("@dana"))
    await console.run("/event ics 1")
    reply = [a for a in console.actions(Reply) if isinstance(a, Reply) and a.attachments][-1]
    parsed = Calendar.from_ical(reply.attachments[0].data)
    (entry,) = parsed.walk("VEVENT")
    assert str(entry["location"]) == "Community hall"
    assert entry.decoded("dtstart").isoformat() == "2026-03-05T18:00:00+00:00"
    assert int(entry["sequence"]) == 1
    uid = str(entry["uid"])
    await console.run("/event edit 1 one start Thursday 20:00")
    await console.run("/event ics 1")
    reply = [a for a in console.actions(Reply) if isinstance(a, Reply) and a.attachments][-1]
    (again,) = Calendar.from_ical(reply.attachments[0].data).walk("VEVENT")
    assert str(again["uid"]) == uid  # the same entry, updated
    assert int(again["sequence"]) == 2
    assert again.decoded("dtstart").isoformat() == "2026-03-05T19:00:00+00:00"
    await console.run("/event edit 2 title Chess night")  # one date unless told "series"
    assert console.seen_by("@owner")[-1] == "Changed 1 date."
    await console.run("/events")
    listed = console.seen_by("@owner")[-1]
    assert "Chess night" in listed and listed.count("Board games") == 2
    # What to change, and how much, by their names in the community's language.
    await console.run("/config set locale de\n/event edit 3 Reihe Ort Bibliothek")
    assert console.seen_by("@owner")[-1] == "1 Termin geändert."  # the series' last date
    await console.run("/config set locale he\n/event edit 2 מקום ספרייה")
    await console.run("/event ics 2")
    reply = [a for a in console.actions(Reply) if isinstance(a, Reply) and a.attachments][-1]
    (second,) = Calendar.from_ical(reply.attachments[0].data).walk("VEVENT")
    assert str(second["location"]) == "ספרייה"


async def test_editing_the_rest_of_a_series_leaves_the_dates_before_it(
    console: ConsoleCommunity,
) -> None:
    await post_event(console, CREATE + " | weekly 3")
    await console.run("/event edit 2 series place Community hall")
    assert console.seen_by("@owner")[-1] == "Changed 2 dates."
    await console.run("/event edit 1 title Chess night")  # its card is shown again
    assert "Where: Café Lev" in card(console) and "Chess night" in card(console)
    for number, place in ((1, "Café Lev"), (2, "Community hall"), (3, "Community hall")):
        await console.run(f"/event ics {number}")
        reply = [a for a in console.actions(Reply) if isinstance(a, Reply) and a.attachments][-1]
        (entry,) = Calendar.from_ical(reply.attachments[0].data).walk("VEVENT")
        assert str(entry["location"]) == place


async def test_forgetting_a_member_frees_the_seat_and_export_lists_answers(
    console: ConsoleCommunity,
) -> None:
    await post_event(console)
    await console.run("/as dana\n/click 1\n/as noa\n/click 1\n/as avi\n/click 1")
    await console.run("/as dana\n/mydata")
    assert any("Board games" in t for t in console.seen_by("@dana"))
    await console.run("/forgetme")
    await console.run("/click 1")
    assert any("A seat came free" in t for t in console.seen_by("@avi"))
    assert await scalar(console, "SELECT going FROM event_occurrence") == 2


async def test_a_weekly_event_keeps_its_local_time_across_the_march_change(
    console: ConsoleCommunity,
) -> None:
    # Israel moves its clocks on Friday 27 March 2026 (UTC+2 to UTC+3).
    await console.run(
        "/config set timezone Asia/Jerusalem\n"
        "/event create Shiur | Thursday 19:00 | 1h | | | | weekly 5\n/click 1"
    )
    assert "Thursday, March 5, 2026, 7:00 PM" in plain(console.seen_by("#general")[-1])
    # After the fourth date (26 March, 17:00-18:00 UTC) the fifth is posted.
    await console.advance(timedelta(days=24, hours=10))  # Thursday 26 March, 18:00 UTC
    assert "Thursday, April 2, 2026, 7:00 PM" in plain(console.seen_by("#general")[-1])
    await console.run("/as dana\n/click 1")
    # 19:00 in Jerusalem on 2 April is 16:00 UTC: the 1h reminder is due at 15:00 UTC.
    await console.advance(timedelta(days=6, hours=20, minutes=59))
    assert not any("starts in 1 hour" in t for t in console.seen_by("@dana"))
    await console.advance(timedelta(minutes=2))
    assert any("starts in 1 hour" in t for t in console.seen_by("@dana"))


async def test_the_weekly_digest_has_an_events_section(console: ConsoleCommunity) -> None:
    await console.run(
        "/event create Board games | Thursday 19:00 | 2h\n/click 1\n"
        "/event create Picnic | 12.3 12:00 | 3h\n/click 1"
    )
    await console.run("/as dana\n/say dana hi\n/click 1")  # Picnic's card is the last shown
    await console.run("/as noa\n/say noa hi\n/as owner\n/event add 1 dana\n/event add 1 noa")
    # The digest of the week of 2 March goes out on Monday 9 March, 09:00.
    await console.advance(timedelta(days=7, hours=1, minutes=1))
    [digest] = [
        a
        for a in console.actions(SendDirect)
        if isinstance(a, SendDirect) and "Last week:" in a.text.plain()
    ]
    text = plain(digest.text.plain())
    assert "Board games: 2 went, 2 of them new" in text
    assert "This week:" in text and "Thursday, March 12, 2026: Picnic, 1 going" in text


async def test_merging_two_members_keeps_one_seat_and_the_better_answer(
    config: Config, tmp_path: Path
) -> None:
    from tests.merging import merging_feature

    console = ConsoleCommunity(
        config, start=START, files_dir=tmp_path, features=[*all_features(), merging_feature()]
    )
    await console.start(migrate=False)
    try:
        await console.run("/setup Test Community")
        await post_event(console, CREATE + " | weekly 2")
        # Both accounts are going to the first date; only dana2 to the second.
        await console.run("/as dana\n/click 1\n/as dana2\n/click 1\n/as avi\n/click 1")
        assert "number 1 on the waitlist" in console.seen_by("@avi")[-1]
        await console.run("/as dana\n/event reminders off\n/as owner\n/merge dana2 dana")
        # One person, one seat: avi moves up.
        assert "A seat came free" in console.seen_by("@avi")[-1]
        assert await scalar(console, "SELECT going FROM event_occurrence WHERE id = 1") == 2
        assert await scalar(console, "SELECT count(*) FROM event_rsvp WHERE occurrence_id = 1") == 2
        assert await scalar(console, "SELECT reminders FROM event_member") in (0, False)
    finally:
        await console.stop()


async def test_reminder_setting_is_checked_and_used(console: ConsoleCommunity) -> None:
    await console.run("/config set events.reminders 10s")
    refused = console.seen_by("@owner")[-1]
    assert "10s is not valid for events.reminders" in refused
    assert "accepts up to 3 times before the start, 5m to 14d each" in refused  # not "text"
    await console.run("/config set events.reminders 2h")
    await post_event(console)
    await console.run("/as dana\n/click 1")
    await console.advance(timedelta(days=3, hours=8))  # Thursday 16:00 UTC: 2h before
    reminders = [t for t in console.seen_by("@dana") if "Reminder" in t]
    assert len(reminders) == 1 and "starts in 2 hours" in reminders[0]


async def remind_keys(console: ConsoleCommunity) -> list[str]:
    db = Database(console.config.database.url)
    try:
        async with db.session() as session:
            sql = "SELECT key FROM job_schedule WHERE job = 'events.remind' ORDER BY key"
            return list((await session.execute(text(sql))).scalars())
    finally:
        await db.dispose()


async def test_changing_the_reminders_setting_moves_the_reminders_of_upcoming_events(
    console: ConsoleCommunity,
) -> None:
    await post_event(console, CREATE + " | weekly 2")  # reminders 24h and 1h (the default)
    await console.run("/as dana\n/click 1\n/as owner\n/config set events.reminders off")
    assert await remind_keys(console) == []
    await console.run("/config set events.reminders 2h")
    told = console.seen_by("@owner")[-1]
    assert "events.reminders is now 2h." in told
    assert "Events already posted follow it too" in told  # the owner knows they moved
    # Both upcoming dates follow the setting, the second (not yet posted) too.
    keys = await remind_keys(console)
    assert len(keys) == 2 and all(k.endswith(":7200") for k in keys), keys
    # Wednesday 18:00 UTC (24h before) passes: nothing.
    await console.advance(timedelta(days=3, hours=7, minutes=59))  # Thursday 15:59 UTC
    assert not any("Reminder" in t for t in console.seen_by("@dana"))
    await console.advance(timedelta(hours=3))  # past 16:00 (2h) and 17:00 (1h) UTC
    reminders = [t for t in console.seen_by("@dana") if "Reminder" in t]
    assert len(reminders) == 1 and "starts in 2 hours" in reminders[0]


async def test_a_new_reminders_setting_sends_nothing_twice_and_nothing_late(
    console: ConsoleCommunity,
) -> None:
    await post_event(console)
    await console.run("/as dana\n/click 1")
    await console.advance(timedelta(days=2, hours=10, minutes=1))  # Wednesday 18:01 UTC
    [sent] = [t for t in console.seen_by("@dana") if "Reminder" in t]
    assert "starts in 1 day" in sent
    # 48h has passed (not sent late), 24h was sent (not again), 2h is new, 1h dropped.
    await console.run("/as owner\n/config set events.reminders 48h,24h,2h")
    await console.advance(timedelta(days=1, hours=2))  # Thursday 20:01 UTC, after the start
    reminders = [t for t in console.seen_by("@dana") if "Reminder" in t]
    assert len(reminders) == 2 and "starts in 2 hours" in reminders[1], reminders


async def test_moving_a_series_moves_its_dates_reminders_and_next_posts(
    console: ConsoleCommunity,
) -> None:
    await post_event(console, CREATE + " | weekly 3")
    await console.run("/as dana\n/click 1\n/as owner\n/event edit 1 series start Thursday 20:00")
    assert "Changed 3 dates." in console.seen_by("@owner")[-1]
    assert any("New time for Board games" in t for t in console.seen_by("@dana"))
    assert "Thursday, March 5, 2026, 8:00 PM" in plain(card(console))
    # The first date now ends at 22:00 Berlin (21:00 UTC): the second is posted then.
    await console.advance(timedelta(days=3, hours=12, minutes=59))  # 20:59 UTC
    assert "March 12" not in plain(console.seen_by("#general")[-1])
    await console.advance(timedelta(minutes=2))
    assert "Thursday, March 12, 2026, 8:00 PM" in plain(console.seen_by("#general")[-1])
    # Dana's 1h reminder followed the new time (18:00 UTC, not 17:00): one, not two.
    reminders = [t for t in console.seen_by("@dana") if "starts in 1 hour" in t]
    assert len(reminders) == 1


async def test_a_cancelled_date_is_not_cancelled_changed_or_filled_again(
    console: ConsoleCommunity,
) -> None:
    await post_event(console)
    await console.run("/join dana\n/event add 1 dana\n/event cancel 1")
    assert console.seen_by("@dana")[-1].startswith("Cancelled: Board games.")
    told = len(console.seen_by("@dana"))
    for line in (
        "/event cancel 1",
        "/event cancel 1 series",
        "/event edit 1 one place Home",
        "/event add 1 dana",
    ):
        console.clear()
        await console.run(line)
        assert console.last_text() == "Event number 1 is cancelled. Nothing was changed.", line
        assert console.seen_by("#general") == []  # the card is not edited again
    console.clear()
    assert len(console.seen_by("@dana")) == 0 and told > 0  # nobody is told twice


async def test_removing_one_who_is_not_on_the_list_says_so(console: ConsoleCommunity) -> None:
    await post_event(console)
    await console.run("/join dana\n/event remove 1 dana")
    assert console.last_text() == "dana is not on the list of Board games. Nothing was changed."
    await console.run("/event add 1 dana\n/event remove 1 dana")
    assert console.last_text() == "dana is off the list of Board games."
    await console.run("/event remove 1 dana")
    assert console.last_text() == "dana is not on the list of Board games. Nothing was changed."


async def test_the_waitlist_is_first_come_first_served_at_the_same_instant(
    console: ConsoleCommunity,
) -> None:
    """The console's clock stands still: three answers at one instant still queue in
    the order they came, whatever the members' numbers."""
    await post_event(console, CREATE.replace("| 2 |", "| 1 |"))
    await console.run(
        "/join zed\n/join eli\n/event add 1 zed\n/event add 1 eli\n/event add 1 owner"
    )
    assert console.last_text() == "Board games is full: owner is number 2 on the waitlist."
    await console.run("/event attendees 1")
    assert console.last_text().endswith("Waitlist, in order (2):\n• eli\n• owner")
    console.clear()
    await console.run("/event remove 1 zed")
    assert console.seen_by("@eli")[-1].startswith("A seat came free: you are going to Board games.")
    assert not any("A seat came free" in t for t in console.seen_by("@owner"))


async def test_a_hebrew_reminder_says_one_day_as_people_do(console: ConsoleCommunity) -> None:
    await post_event(console)
    await console.run("/event add 1 owner\n/config set locale he\n/advance 3d")
    [reminder] = [t for t in console.seen_by("@owner") if t.startswith("תזכורת")]
    assert "מתחיל בעוד יום אחד." in reminder  # not "בעוד 1 יום"


async def test_create_without_a_start_or_with_a_repeat_ending_at_once_explains(
    console: ConsoleCommunity,
) -> None:
    await console.run("/event create Picnic")
    assert console.last_text() == (
        "An event needs a start, after a |:\n/event create Picnic | Thursday 19:00\n"
        "Nothing was stored."
    )
    for ends in ("weekly until 1.1.2020", "weekly until 4.3.2026"):  # past; before the 2nd
        await console.run(f"/event create Picnic | Thursday 19:00 | 2h | Park | 5 | | {ends}")
        assert console.last_text() == (
            f"The repeat “{ends}” ends before its second date. A repeat has from 2 to 52 "
            "dates.\nNothing was stored."
        )
    assert await scalar(console, "SELECT count(*) FROM event_series") == 0
    # The example the Hebrew answer gives is one the bot reads.
    await console.run("/config set locale he\n/event create פיקניק")
    assert "/event create פיקניק | יום חמישי 19:00" in console.last_text()
    await console.run("/event create פיקניק | יום חמישי 19:00")
    assert console.last_text().startswith("כך הבנתי:")


async def test_discard_pressed_after_post_it_says_it_is_posted_and_keeps_it(
    console: ConsoleCommunity,
) -> None:
    await post_event(console)
    # From another channel the latest buttons shown to the owner are the preview's.
    await console.run("/in elsewhere\n/click 2")  # Discard, a tap sent before they closed
    assert console.last_text() == "This event is posted already."
    await console.run("/events")
    assert "Board games" in console.last_text()
    assert await scalar(console, "SELECT count(*) FROM event_series") == 1


async def test_fewer_seats_than_people_going_says_nobody_was_taken_off(
    console: ConsoleCommunity,
) -> None:
    await post_event(console)
    await console.run(
        "/join dana\n/event add 1 dana\n/event add 1 owner\n/event edit 1 one capacity 1"
    )
    assert console.last_text() == (
        "Changed 1 date.\n1 date has more people going than seats; nobody was taken off its list."
    )
    await console.run("/config set locale he\n/event edit 1 one capacity 1")
    assert "במועד אחד יש יותר משתתפים ממקומות" in console.last_text()
    await console.run("/event attendees 1")
    assert "(2)" in console.last_text()  # both still going
