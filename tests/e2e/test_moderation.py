"""Moderator alerts end to end through the console adapter and the fake clock:
detectors, one alert per incident with its buttons, the log, the hourly cap, reports,
unanswered questions, retention, and the privacy hooks."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import text

from adapters.console.community import ConsoleCommunity
from bot.actions import Ban, Delete, Edit, Kick, Reply, Restrict, SendDirect
from bot.config import Config
from bot.features import all_features
from bot.features.moderation.hot import Watch
from storage.database import Database
from tests.conftest import START
from tests.conftest import member_ref as ref
from tests.merging import merging_feature

MODS = "/config set moderation.alert_channel mods\n"


async def rows(console: ConsoleCommunity, sql: str) -> list[tuple[object, ...]]:
    db = Database(console.config.database.url)
    try:
        async with db.session() as session:
            return [tuple(r) for r in (await session.execute(text(sql))).all()]
    finally:
        await db.dispose()


def alerts(console: ConsoleCommunity) -> list[str]:
    return console.seen_by("#mods")


async def test_a_flood_is_one_alert_whose_buttons_act_and_are_logged(
    console: ConsoleCommunity,
) -> None:
    await console.run(
        "/config set moderation.flood on\n/config set moderation.flood_per_minute 3\n"
        "/config set moderation.alert_channel mods"
    )
    console.clear()
    await console.run("\n".join(f"/say spam buy now {i}" for i in range(8)))
    [alert] = alerts(console)
    assert "Flood in" in alert and "spam posted 4 messages within a minute" in alert
    assert "“buy now 3”" in alert
    # The moderators' buttons: delete, time out, kick, ban, handled, false alarm.
    await console.run("/in mods")
    shown = [b.label for b, _ in console.adapter.buttons_for(console.session.actor, "mods")]
    assert shown == ["Delete message", "Time out", "Kick", "Ban", "Handled", "False alarm"]
    console.clear()
    where, before = console.adapter.buttons_where(console.session.actor, "mods")
    await console.run("/click 1")  # delete
    [delete] = console.actions(Delete)
    assert isinstance(delete, Delete)
    [edited] = [a for a in console.actions(Edit) if isinstance(a, Edit)]
    assert "deleted the message" in edited.text.plain()
    # What was done is not offered again.
    shown = [b.label for b, _ in console.adapter.buttons_for(console.session.actor, "mods")]
    assert shown == ["Time out", "Kick", "Ban", "Handled", "False alarm"]
    await console.run("/click 1")  # time out
    [restrict] = console.actions(Restrict)
    assert isinstance(restrict, Restrict) and restrict.user_id == "spam"
    assert console.adapter.member("spam").restricted
    shown = [b.label for b, _ in console.adapter.buttons_for(console.session.actor, "mods")]
    assert shown == ["Kick", "Ban", "Handled", "False alarm"]
    # Delete pressed again (a tap sent before the edit) does not delete again: it says
    # who did, and when.
    console.clear()
    after = console.adapter.button_sets[where]
    console.adapter.button_sets[where] = before
    await console.run("/click 1")
    assert not console.actions(Delete)
    assert "Already done: owner deleted the message" in console.seen_by("log")[-1]
    console.adapter.button_sets[where] = after
    await console.run("/click 4")  # false alarm: the alert keeps its log, loses its buttons
    assert not console.actions(Kick) and not console.actions(Ban)
    assert not console.adapter.buttons_for(console.session.actor, "mods")
    # The incident log.
    console.clear()
    await console.run("/incidents")
    log = console.last_text()
    assert "Flood" in log and "false alarm" in log
    assert "deleted the message" in log and "timed the member out" in log
    assert "called it a false alarm" in log


async def test_owners_turn_detectors_on_and_off(console: ConsoleCommunity) -> None:
    await console.run("/moderation on flood\n/moderation on flood\n/moderation on watch")
    said = console.seen_by("@owner")
    assert said[-3:-1] == ["Floods: on now.", "Floods: already on."]
    assert said[-1] == "Watched words: on now.\nNo watched words yet. Add one with /watch add."
    await console.run("/moderation off flood\n/moderation status")
    status = console.seen_by("@owner")[-1]
    assert "Floods: off" in status and "Watched words: on" in status
    assert "/moderation on flood" in status
    await console.run("/join dana\n/staff set moderator dana\n/as dana\n/moderation on raid")
    assert console.last_text() == "Only owners can use /moderation on. Nothing was changed."
    await console.run("/moderation status")  # moderators still read it
    assert "Raids: off" in console.last_text()
    await console.run("/as owner\n/config set locale de\n/moderation on colour")
    assert console.last_text().startswith(
        "colour ist hier keine Wahl: schreib raid, flood, watch, reports oder questions."
    )
    await console.run("/moderation on raid\n/config set locale he\n/moderation off raid")
    assert console.seen_by("@owner")[-3] == "Raids: jetzt an."
    assert console.last_text() == "פשיטות: כבוי עכשיו."
    # A detector by the name the status gives it, in any of the three languages.
    await console.run("/moderation on הצפות\n/moderation off Meldungen")
    assert console.seen_by("@owner")[-2:] == ["הצפות: מופעל עכשיו.", "דיווחים: כבוי עכשיו."]
    await console.run("/config set locale de\n/staff set Eigentümer dana")
    assert console.last_text() == "dana hat jetzt die Rolle Eigentümer."
    # A name of several words, as the last word of the command.
    await console.run("/moderation on beobachtete Wörter\n/moderation on offene fragen")
    assert console.seen_by("@owner")[-2:] == [
        "Beobachtete Wörter: schon an.",
        "Offene Fragen: jetzt an.",
    ]
    await console.run("/moderation on offene Fragen bitte")  # not a name: refused
    assert console.last_text().startswith("offene ist hier keine Wahl")


async def test_the_same_text_in_several_channels_is_one_members_flood_not_a_greeting(
    console: ConsoleCommunity,
) -> None:
    await console.run(
        "/config set moderation.flood on\n/config set moderation.flood_channels 3\n"
        "/config set moderation.alert_channel mods"
    )
    console.clear()
    # Three people greet in three channels: a community, not a flood.
    for channel, name in (("general", "avi"), ("random", "dana"), ("intro", "noa")):
        await console.run(f"/in {channel}\n/say {name} Good morning everyone!")
    assert alerts(console) == []
    # One member posts the same offer in three channels: one alert.
    for channel in ("general", "random", "intro"):
        await console.run(f"/in {channel}\n/say spam Cheap followers, DM me now")
    [alert] = alerts(console)
    assert "spam posted the same text in 3 channels" in alert


async def test_the_hourly_cap_holds_alerts_and_summarizes_them(console: ConsoleCommunity) -> None:
    await console.run(
        "/config set moderation.watch on\n/config set moderation.alerts_per_hour 2\n"
        "/config set moderation.alert_channel mods\n/watch add scam"
    )
    console.clear()
    for name in ("a", "b", "c", "d", "e"):
        await console.run(f"/say {name} this is a scam")
    assert len(alerts(console)) == 2
    await console.advance(timedelta(hours=1))
    summary = alerts(console)[-1]
    assert "3 more incidents within the hour" in summary and "Watched word: 3" in summary
    assert len(alerts(console)) == 3


async def test_watched_words_in_three_languages(console: ConsoleCommunity) -> None:
    await console.run(
        "/config set moderation.watch on\n/config set moderation.alert_channel mods\n"
        "/watch add Idiot\n/watch add כסף קל\n/watch add crypto*"
    )
    console.clear()
    await console.run("/say a Du VOLLIDIOT")
    await console.run("/say b ובכסף קל תרוויחו")
    await console.run("/say c cryptocurrency gains")
    await console.run("/say d a classic idiom")
    found = alerts(console)
    assert len(found) == 3
    assert "a wrote “VOLLIDIOT”" in found[0] and "Watched entry: Idiot" in found[0]
    assert "b wrote “ובכסף קל”" in found[1]
    assert "c wrote “cryptocurrency”" in found[2] and "Watched entry: crypto*" in found[2]
    await console.run("/watch list")
    assert "3 watched entries" in console.last_text()
    # After a restart the list is loaded again.
    await console.restart()
    console.clear()
    await console.run("/say e cryptos everywhere")
    [after] = alerts(console)
    assert "e wrote “cryptos”" in after


async def test_a_report_is_alerted_and_the_reporter_stays_private(
    console: ConsoleCommunity,
) -> None:
    await console.run(MODS)
    await console.run("/say troll you are all fools")
    console.clear()
    await console.run("/as rina\n/reply troll /report insulting")
    [alert] = alerts(console)
    assert "a member reported a message by troll" in alert and "insulting" in alert
    assert "rina" not in alert
    assert any("Thank you for your report" in t for t in console.seen_by("@rina"))
    assert not any("rina" in t for t in console.seen_by("@troll"))
    # The /report command itself is deleted, so the channel does not show who reported.
    assert console.actions(Delete)
    # The same message reported again: no second alert.
    await console.run("/as sam\n/reply troll /report")
    assert len(alerts(console)) == 1


async def test_an_unanswered_question_is_alerted_once_in_waking_hours(
    console: ConsoleCommunity,
) -> None:
    await console.run(MODS + "/config set moderation.questions on")
    console.clear()
    await console.run(
        "/say dana How do I change my plan?\n/say eli Does anyone know a good printer?"
    )
    await console.run("/as fay\n/reply eli Try the one on the second floor")
    await console.advance(timedelta(hours=3))
    assert not alerts(console)
    await console.advance(timedelta(hours=2))
    [alert] = alerts(console)
    assert "Unanswered question" in alert and "dana asked 4 hours ago" in alert
    assert "How do I change my plan?" in alert
    await console.advance(timedelta(hours=5))
    assert len(alerts(console)) == 1


async def test_an_open_question_follows_a_merge_and_goes_with_a_forget(config: Config) -> None:
    """Open questions are kept in memory only: a merge moves them to the member kept,
    /forgetme takes them away (no alert about someone who asked to be forgotten)."""
    console = ConsoleCommunity(config, start=START, features=[*all_features(), merging_feature()])
    await console.start(migrate=False)
    try:
        await console.run("/setup Test Community\n" + MODS + "/config set moderation.questions on")
        await console.run("/say b How do I change my plan?\n/say c Where is the meetup?")
        await console.run("/say a hello\n/as owner\n/merge b a\n/as c\n/forgetme\n/click 1")
        console.clear()
        await console.advance(timedelta(hours=5))
        [alert] = alerts(console)
        assert "a asked 4 hours ago" in alert and "How do I change my plan?" in alert
    finally:
        await console.stop()


async def test_a_raid_is_one_alert_with_its_invites_and_count(console: ConsoleCommunity) -> None:
    await console.run(
        MODS + "/config set moderation.raid on\n/config set moderation.surge_per_minute 3\n"
        "/newinvite RAIDX"
    )
    console.clear()
    await console.run("\n".join(f"/join bot{i} invite=RAIDX" for i in range(12)))
    raid = [t for t in alerts(console) if "Raid in" in t]
    assert len(raid) == 1
    assert "4 members joined" in raid[0] and "raidx (4)" in raid[0].lower()
    assert "does not say how old an account is" in raid[0]
    await console.advance(timedelta(minutes=11))
    edited = [a for a in console.actions(Edit) if isinstance(a, Edit)]
    assert edited and "12 members joined" in edited[-1].text.plain()


async def test_merge_forget_and_retention(config: Config) -> None:
    console = ConsoleCommunity(config, start=START, features=[*all_features(), merging_feature()])
    await console.start(migrate=False)
    try:
        await console.run("/setup Test Community")
        await console.run(MODS + "/config set moderation.watch on\n/watch add scam")
        await console.run("/say a a scam\n/say b another scam\n/say c a scam too")
        await console.run("/as rina\n/reply c /report scam")
        incidents = "SELECT member_id FROM moderation_incident ORDER BY id"
        assert len(await rows(console, incidents)) == 4  # three watched words, one report
        # /mydata: the incidents about you and the reports you made.
        await console.run("/as rina\n/mydata")
        reply = console.actions(Reply)[-1]
        assert isinstance(reply, Reply)
        mine = json.loads(reply.attachments[0].data)["moderation"]
        assert len(mine["your_reports"]) == 1 and mine["incidents_about_you"] == []
        a, b = ref(console, "a"), ref(console, "b")
        await console.run("/as owner\n/merge b a")
        assert [r[0] for r in await rows(console, incidents)][:2] == [a.id, a.id]
        # Forgetting a member deletes the incidents about them.
        await console.run("/as a\n/forgetme\n/click 1")
        assert len(await rows(console, incidents)) == 2
        # The reporter's data: the report stays, without who made it.
        reporters = "SELECT reporter_id FROM moderation_incident WHERE kind = 'report'"
        assert await rows(console, reporters) == [(ref(console, "rina").id,)]
        await console.run("/as rina\n/forgetme\n/click 1")
        assert await rows(console, reporters) == [(None,)]
        # Retention: gone after 14 days, by the daily job.
        await console.advance(timedelta(days=13))
        assert len(await rows(console, incidents)) == 2
        await console.advance(timedelta(days=2))
        assert await rows(console, incidents) == []
        assert b.id not in console.app.services.state(Watch).joined
    finally:
        await console.stop()


async def test_a_list_changed_by_another_process_is_reloaded(console: ConsoleCommunity) -> None:
    await console.run(MODS + "/config set moderation.watch on\n/watch add scam")
    community = console.app.directory.community_of("console", "console")
    assert community is not None
    version = community.settings["moderation.watch_version"]
    # Another process adds an entry: its row, and the version bot/sync.py brings here.
    db = Database(console.config.database.url)
    try:
        async with db.session() as session:
            await session.execute(
                text(
                    "INSERT INTO moderation_watch (community_id, entry, added_at) "
                    "VALUES (:c, 'fraud', '2026-03-02 08:00:00')"
                ),
                {"c": community.id},
            )
            await session.commit()
    finally:
        await db.dispose()
    console.app.directory.set_setting(community, "moderation.watch_version", version + 1)
    console.clear()
    await console.run("/say a what a fraud")  # noticed: the list is reloaded
    await console.run("/say b another fraud")
    assert [t for t in alerts(console) if "“fraud”" in t]


async def test_a_button_pressed_on_a_private_alert_edits_it_there_not_in_the_room(
    console: ConsoleCommunity,
) -> None:
    """Without an alert channel the alerts go to the moderators privately; one pressed
    by a moderator standing in #general is edited in the private chat, never shown in
    the room the members read."""
    await console.run(
        "/join mod\n/staff set moderator mod\n/config set moderation.watch on\n/watch add crypto*"
    )
    console.clear()
    await console.run("/say dana buy crypto now")
    assert any("Watched word" in t for t in console.seen_by("@mod"))
    await console.run("/as mod\n/click 5")  # handled, from #general
    assert not any("Watched word" in t for t in console.seen_by("#general"))
    assert "mod marked it handled" in console.seen_by("@mod")[-1]
    assert "mod marked it handled" in console.seen_by("@owner")[-1]


async def test_the_buttons_never_time_out_kick_or_ban_an_owner_or_moderator(
    console: ConsoleCommunity,
) -> None:
    await console.run(
        MODS + "/join mod\n/join mod2\n/staff set moderator mod\n/staff set moderator mod2"
    )
    for staff in ("owner", "mod2"):
        await console.run(f"/say {staff} you are all wrong\n/as dana\n/reply {staff} /report rude")
        console.clear()
        await console.run("/as mod\n/in mods")
        for button in (2, 3, 4):  # time out, kick, ban
            await console.run(f"/click {button}")
            assert console.seen_by("log")[-1] == (
                f"(kehila, on the button: {staff} is an owner or moderator: these buttons do "
                "not act on them.)"
            )
        assert not console.actions(Ban) and not console.actions(Kick)
        assert not console.actions(Restrict) and not console.adapter.member(staff).restricted
        await console.run("/click 1\n/in general")  # the message itself may still go
        assert console.actions(Delete)


async def test_each_press_edits_the_channel_alert_once(console: ConsoleCommunity) -> None:
    """The console keeps an edited message's id, as platforms do: a second press on
    the edited alert edits it once, not once as "pressed" and again as "sent"."""
    await console.run(MODS + "/say troll buy now\n/as dana\n/reply troll /report spam")
    await console.run("/as owner\n/in mods")
    for button in (1, 1, 3):  # delete, time out, handled (each leaves the buttons)
        console.clear()
        await console.run(f"/click {button}")
        assert len(alerts(console)) == 1, alerts(console)


async def test_a_watched_word_alert_names_the_word_as_the_member_wrote_it(
    console: ConsoleCommunity,
) -> None:
    await console.run(
        MODS + "/config set moderation.watch on\n/watch add crypto*\n/watch add Straße"
    )
    console.clear()
    await console.run("/say dana buy crypto\n/say noa die STRASSE ist gesperrt")
    first, second = alerts(console)
    assert "dana wrote “crypto”" in first and "wrote “crypto*”" not in first
    assert "noa wrote “STRASSE”" in second and "Watched entry: Straße" in second


async def test_a_watched_phrase_is_found_across_any_spaces_and_kept_with_one(
    console: ConsoleCommunity,
) -> None:
    await console.run(MODS + "/config set moderation.watch on\n/watch add easy   money")
    assert "Now watching “easy money”." in console.last_text()
    await console.run("/watch add כסף \t קל\n/watch list")
    listed = console.last_text()
    assert "easy money" in listed and "כסף קל" in listed and "  " not in listed
    console.clear()
    await console.run("/say dana make EASY     money fast")
    await console.run("/say noa make easy\tmoney")
    await console.run("/say lea make easy\u00a0 money")
    await console.run("/say tal ובכסף    קל תרוויחו")
    found = alerts(console)
    assert len(found) == 4, found
    assert "dana wrote “EASY money”" in found[0] and "Watched entry: easy money" in found[0]
    assert "“make EASY     money fast”" in found[0]  # the message as the member wrote it
    assert "noa wrote “easy money”" in found[1] and "lea wrote “easy money”" in found[2]
    assert "tal wrote “ובכסף קל”" in found[3]
    await console.run("/watch remove easy \u00a0money")
    assert "No longer watching “easy money”." in console.last_text()
    assert "1 entry in the list." in console.last_text()


async def test_an_entry_is_one_whatever_its_case_and_a_near_miss_is_named(
    console: ConsoleCommunity,
) -> None:
    await console.run(MODS + "/config set moderation.watch on\n/watch add Krypto*")
    await console.run("/watch add KRYPTO*")  # the matcher folds case: the same entry
    assert console.last_text().split("\n") == [
        "“Krypto*” was already watched.",
        "1 entry in the list.",
    ]
    await console.run("/watch remove Krypto")
    assert console.last_text().split("\n") == [
        "“Krypto” is not in the list. Did you mean “Krypto*”?",
        "1 entry in the list.",
    ]
    await console.run("/watch remove krypto*")
    assert "No longer watching “Krypto*”." in console.last_text()
    assert "0 entries in the list." in console.last_text()
    await console.run("/config set locale de\n/watch add Börse\n/watch remove börsen")
    assert console.last_text().startswith("„börsen“ steht nicht in der Liste. Meintest du „Börse“?")


async def test_entries_too_short_to_mean_anything_are_refused(console: ConsoleCommunity) -> None:
    await console.run(MODS + "/config set moderation.watch on")
    for short in ("a", "ab", "x*", "ב"):
        await console.run(f"/watch add {short}")
        assert f"“{short}” is too short to watch" in console.last_text()
        assert "at least three letters (two in Hebrew)" in console.last_text()
    await console.run("/watch add גז\n/watch add spa*")
    await console.run("/watch list")
    assert "2 watched entries" in console.last_text()
    console.clear()
    await console.run("/say dana a b ab\n/say dana ג ז")
    assert not alerts(console)


async def test_kick_or_ban_closes_the_incident_and_late_presses_answer_honestly(
    console: ConsoleCommunity,
) -> None:
    await console.run(MODS + "/config set moderation.watch on\n/watch add crypto*")
    labels = ["Delete message", "Time out", "Kick", "Ban", "Handled", "False alarm"]
    for verb, done in (("Ban", "banned the member"), ("Kick", "removed the member")):
        await console.run(f"/as owner\n/in general\n/say {verb.lower()}ee buy crypto now")
        await console.run("/in mods")
        where, before = console.adapter.buttons_where(console.session.actor, "mods")
        assert [b.label for b, _ in before] == labels
        console.clear()
        await console.run(f"/click {labels.index(verb) + 1}")
        assert f"owner {done} and closed the incident" in alerts(console)[-1]
        # The member's buttons are gone, and False alarm and Handled with them: only the
        # message's own button stays while the message is there.
        shown = console.adapter.buttons_for(console.session.actor, "mods")
        assert [b.label for b, _ in shown] == ["Delete message"]
        # Late presses on the removed buttons (a tap sent before the edit) act on nothing
        # and say who closed the incident.
        for late in ("Kick", "Ban", "Time out", "False alarm", "Handled"):
            console.adapter.button_sets[where] = before
            await console.run(f"/click {labels.index(late) + 1}")
            assert console.seen_by("log")[-1].startswith(
                f"(kehila, on the button: Already closed: owner {done} and closed the incident"
            ), late
        assert len(console.actions(Ban)) + len(console.actions(Kick)) == 1
        assert not console.actions(Restrict)
        # The message can still go; then no button is left.
        console.adapter.button_sets[where] = shown
        await console.run("/click 1")
        assert len(console.actions(Delete)) == 1
        assert not console.adapter.buttons_for(console.session.actor, "mods")
        console.adapter.button_sets[where] = before
        await console.run("/click 1")
        assert "Already done: owner deleted the message" in console.seen_by("log")[-1]
        assert len(console.actions(Delete)) == 1
    await console.run("/incidents")
    assert console.last_text().count("Watched word · ") == 2
    assert "· banee · handled" in console.last_text()
    assert "· kickee · handled" in console.last_text()


async def test_a_member_pressing_the_buttons_hears_owners_may_too(
    console: ConsoleCommunity,
) -> None:
    await console.run(MODS + "/config set moderation.watch on\n/watch add crypto*")
    await console.run("/say dana buy crypto\n/in mods")
    where, shown = console.adapter.buttons_where(console.session.actor, "mods")
    await console.run("/as tom\n/in mods")
    console.adapter.button_sets[where] = shown
    await console.run("/click 3")
    assert console.seen_by("log")[-1] == (
        "(kehila, on the button: Only moderators and owners can use these buttons.)"
    )
    assert not console.actions(Kick)


async def test_a_raid_with_onboarding_on_is_one_message_to_the_moderators(
    console: ConsoleCommunity,
) -> None:
    """Onboarding pauses welcomes during the surge; the raid alert already told the
    moderators of it, so onboarding's own surge note is not sent as well."""
    await console.run(
        MODS + "/config set moderation.raid on\n/config set moderation.surge_per_minute 3\n"
        "/onboarding gate on"
    )
    console.clear()
    await console.run("\n".join(f"/join bot{i}" for i in range(8)))
    [raid] = alerts(console)
    assert raid.startswith("Raid in")
    assert not [t for t in console.seen_by("@owner") if "Join surge" in t]
    assert len(console.actions(SendDirect)) == 3  # welcomes still paused after the third
    await console.advance(timedelta(minutes=11))
    assert not [t for t in alerts(console) if "Join surge" in t]


async def test_a_surge_the_raid_detector_leaves_alone_still_gets_onboardings_note(
    console: ConsoleCommunity,
) -> None:
    await console.run(MODS + "/config set moderation.surge_per_minute 3")
    console.clear()
    await console.run("\n".join(f"/join bot{i}" for i in range(8)))
    [note] = alerts(console)
    assert note.startswith("Join surge")


async def test_a_flagged_message_is_quoted_the_languages_way(console: ConsoleCommunity) -> None:
    """The alert and /incidents quote the member's message in German „…“ and in
    Hebrew "…", as every other reply of theirs does, not in English marks."""
    await console.run(MODS + "/config set moderation.watch on\n/watch add crypto")
    await console.run("/config set locale de\n/say dana kauft crypto jetzt")
    await console.run("/as owner\n/incidents")
    assert "„kauft crypto jetzt“" in alerts(console)[-1]
    assert "„kauft crypto jetzt“" in console.last_text()
    assert "”" not in alerts(console)[-1] + console.last_text()  # English's closing mark
    await console.run("/config set locale he\n/say noa מי רוצה crypto")
    assert '"מי רוצה crypto"' in alerts(console)[-1]
    assert not {"“", "”", "„"} & set(alerts(console)[-1])
