"""The console as a newcomer meets it: lines the world cannot play say why, its own
lines are listed inside it, invites are made before they are used, buttons are
pressed by whom they were shown to, and a restart goes on where the last run stopped."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.console.community import ConsoleCommunity
from adapters.console.script import DIRECTIVES, LINES, Refused, ScriptError
from adapters.console.world import ConsoleData
from bot.actions import Edit, SendDirect
from bot.config import Config, load_config
from tests.conftest import START

# --- lines the world cannot play ---------------------------------------------------


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (
            "/reply zed hi",
            "zed has posted nothing to reply to; write without /reply, or /say zed TEXT first",
        ),
        ("/react", "nothing to react to: nobody else has posted in #general yet"),
        (
            "/join bob invite=nope",
            "no invite has the code nope (invites: none yet); make one with /newinvite, "
            "or /join bob without one",
        ),
        ("/click 1", "no buttons to press: none were shown to owner, privately or in #general"),
        ("/leave zed", "zed is not here (only someone who joined or posted can leave)"),
    ],
)
async def test_a_line_the_world_cannot_play_says_why_and_changes_nothing(
    console: ConsoleCommunity, line: str, says: str
) -> None:
    with pytest.raises(Refused) as refused:
        await console.run(line)
    assert refused.value.show() == says
    assert console.performed == []
    members = {m.display_name for m in console.app.directory.by_id.values()}
    assert members == {"owner"}  # nobody joined, nobody left, nothing was posted


async def test_a_malformed_line_gets_its_usage(console: ConsoleCommunity) -> None:
    await console.run("/join dana")
    await console.run("/as dana")
    with pytest.raises(ScriptError) as wrong:
        await console.run("/click 2")
    assert wrong.value.show() == "usage: /click N, with N from 1 to 1"
    for line in ("/join noa invite", "/join noa invite=", "/join noa friend"):
        with pytest.raises(ScriptError) as wrong:
            await console.run(line)
        assert wrong.value.show() == "usage: /join NAME [invite=CODE]"


async def test_a_member_who_posted_can_be_replied_to_and_can_leave(
    console: ConsoleCommunity,
) -> None:
    # Someone who was in the group before the bot: never joined through it, but posts.
    await console.run("/say zed hello all\n/reply zed hi zed\n/as zed\n/react\n/leave zed")
    assert console.app.directory.community_of("console", "console") is not None
    with pytest.raises(Refused, match="zed is not here"):
        await console.run("/leave zed")


# --- buttons are pressed by whom they were shown to --------------------------------


async def test_the_owner_cannot_press_a_new_members_private_button(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join dana")
    with pytest.raises(Refused, match="no buttons to press: none were shown to owner"):
        await console.run("/click 1")
    await console.run("/as dana\n/click 1")
    assert "Thank you, and welcome" in console.seen_by("@dana")[-1]
    assert not any("no longer works" in text for text in console.seen_by("@owner"))


async def test_an_edited_message_keeps_its_id_so_a_second_press_edits_it_once(
    console: ConsoleCommunity,
) -> None:
    # As on the platforms: the alert edited after the first press is still the alert
    # that was sent, so the second press edits it once, not once more as "another copy".
    await console.run(
        "/config set moderation.watch on\n/config set moderation.alert_channel mods\n"
        "/watch add scam\n/say kai a scam\n/in mods\n/click 1"
    )
    console.clear()
    await console.run("/click 4")  # Handled (Delete message is gone)
    [edit] = console.actions(Edit)
    assert isinstance(edit, Edit) and "marked it handled" in edit.text.plain()


# --- invites -----------------------------------------------------------------------


async def test_an_invite_a_member_made_names_them_as_the_inviter(
    console: ConsoleCommunity,
) -> None:
    await console.run("/onboarding set welcome Welcome {member}, invited by {inviter}!")
    await console.run("/join dana\n/as dana\n/newinvite")
    made = console.adapter.notes[-1]
    assert made.startswith("dana made the invite console://join/inv")
    code = made.split("console://join/", 1)[1].split(":", 1)[0]
    # The link as pasted, or the code as typed: the same invite.
    await console.run(
        f"/join noa invite=console://join/{code}\n/newinvite cafe\n/join eli invite=cafe"
    )
    welcomes = console.seen_by("#general")
    assert welcomes[-2:] == ["Welcome @noa, invited by dana!", "Welcome @eli, invited by dana!"]
    with pytest.raises(Refused, match="the invite cafe exists already"):
        await console.run("/newinvite cafe")


# --- the console's own lines, inside it --------------------------------------------


async def test_help_in_the_console_lists_the_consoles_own_lines(
    console: ConsoleCommunity,
) -> None:
    await console.run("/help")
    assert "What you can do here:" in console.last_text()  # the bot's commands first
    assert console.adapter.notes == [LINES]
    for line in ("/as NAME", "/in CHANNEL", "/join NAME", "/newinvite", "/click N", "/advance 3d"):
        assert line in LINES
    await console.run("/console")
    assert console.adapter.notes == [LINES, LINES]


async def test_no_console_line_hides_a_bot_command(console: ConsoleCommunity) -> None:
    # The console's own lines take the words they start with: a bot command of the same
    # name could never be sent in a channel (/invite once was the console's).
    commands = set(console.app.dispatcher.table.commands)
    assert "invite" in commands
    assert not DIRECTIVES & commands
    await console.run("/join dana\n/as dana\n/invite")
    assert console.last_text().startswith("Your invite link: console://join/")


# --- a restart goes on where the last run stopped ----------------------------------


async def test_a_restart_goes_on_from_the_kept_clock_and_world(
    config: Config, tmp_path: Path
) -> None:
    data = ConsoleData(tmp_path / "data")
    first = ConsoleCommunity(config, start=START, data=data)  # Monday 2 March, 08:00 UTC
    await first.start(migrate=False)
    await first.run("/setup Bakery\n/join dana\n/as dana\nhello everyone\n/as owner\n/advance 6d")
    await first.stop()

    second = ConsoleCommunity(config, data=data)  # no start given: the kept one
    await second.start(migrate=False)
    try:
        assert second.resumed and second.clock.now() == START + timedelta(days=6)
        assert (second.session.actor.name, second.session.channel) == ("owner", "general")
        # Monday 9 March, 09:00 UTC: the digest is about the week of /setup.
        await second.run("/advance 26h")
        digests = [a for a in second.actions(SendDirect) if a.attachments]
        assert len(digests) == 1
        assert "Mar 2\u2009–\u20098" in digests[0].text.plain()
        # Dana is still here, her message can be replied to; her button still works.
        await second.run("/reply dana welcome!\n/as dana\n/click 1")
        assert "Thank you, and welcome" in second.seen_by("@dana")[-1]
        await second.run("/leave dana")
    finally:
        await second.stop()


async def test_a_world_whose_database_is_gone_is_not_taken_up(tmp_path: Path) -> None:
    data = ConsoleData(tmp_path / "data")
    config = data.configure(load_config(None, env={}))
    assert config.database.url == f"sqlite+aiosqlite:///{data.database}"
    kept = ConsoleCommunity(config, start=START, data=data)
    kept.save()
    assert data.world.exists() and not data.database.exists()
    fresh = ConsoleCommunity(config, data=data)
    assert not fresh.resumed and fresh.clock.now() != START  # today, a new world


async def test_an_unreadable_world_starts_a_new_one(config: Config, tmp_path: Path) -> None:
    data = ConsoleData(tmp_path / "data")
    data.root.mkdir()
    data.world.write_text("{not json", encoding="utf-8")
    assert not ConsoleCommunity(config, data=data).resumed


def test_a_configured_database_is_kept_out_of_the_data_folder(tmp_path: Path) -> None:
    data = ConsoleData(tmp_path / "data")
    url = "postgresql+asyncpg://kehila@db.example.com:5432/kehila"
    config = load_config(None, env={"KEHILA_DATABASE_URL": url})
    assert data.configure(config).database.url == url
    assert not data.uses_own_database(data.configure(config))


# --- the log says the schedule in words --------------------------------------------


async def test_no_log_line_shows_a_python_value(
    console: ConsoleCommunity, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await console.run("/config set timezone Europe/Berlin\n/digest settings tue 8")
        await console.run("/join dana\n/as dana\nhello?\n/as owner\n/advance 8d")
    lines = [record.getMessage() for record in caplog.records]
    assert "digest of community 1 scheduled: Tuesdays at 08:00 (Europe/Berlin)" in lines
    assert not [line for line in lines if "{'" in line or "['" in line]
