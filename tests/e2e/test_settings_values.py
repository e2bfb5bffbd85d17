"""Every setting has a range or shape, checked when it is set (the reply names the key
and what it takes) and again at start (a stored value that is no longer valid gives
way to the default, and the owners hear of it once). Issue #12."""

from __future__ import annotations

from adapters.console.community import ConsoleCommunity
from bot.config import Config
from storage.unit_of_work import UnitOfWork
from tests.conftest import START


async def _stored(console: ConsoleCommunity) -> dict[str, object]:
    community = console.app.directory.community_of("console", "console")
    assert community is not None
    async with UnitOfWork(console.app.services.db) as uow:
        return await uow.settings.of(community.id)


async def test_values_that_would_break_the_bot_are_refused_with_what_is_accepted(
    console: ConsoleCommunity,
) -> None:
    for line, expected in [
        (
            "/config set onboarding.nudge_after 9999999d",
            "onboarding.nudge_after accepts a duration from 0s to 90d",
        ),
        (
            "/config set onboarding.gate_timeout 99999999999w",
            "onboarding.gate_timeout accepts a duration from 1m to 1w",
        ),
        (
            "/config set moderation.surge_per_minute 12345678901234567890123456",
            "moderation.surge_per_minute accepts a whole number from 1 to 10,000",
        ),
        ("/config set onboarding.gate_timeout 30s", "accepts a duration from 1m to 1w"),
    ]:
        await console.run(line)
        reply = console.last_text()
        assert "is not valid for" in reply and expected in reply, (line, reply)
        assert "Sorry" not in reply
    assert await _stored(console) == {}


async def test_a_huge_time_zone_and_an_invisible_name_are_refused(
    console: ConsoleCommunity,
) -> None:
    await console.run("/config set timezone " + "Europe/" * 1500)
    reply = console.last_text()
    assert "is not a time zone" in reply and len(reply) < 200
    await console.run("/config set name \u200b\u200f\u2060")
    assert console.last_text() == "A name needs 1 to 100 characters."
    community = console.app.directory.community_of("console", "console")
    assert community is not None and community.timezone == "UTC"
    assert community.name == "Test Community"


async def test_channels_and_roles_are_taken_as_owners_type_them(
    console: ConsoleCommunity,
) -> None:
    await console.run(
        "/config set community.channel <#1575088658841600016>\n"
        "/config set moderation.alert_channel #mods\n"
        "/config set onboarding.member_role <@&300000000000000004>"
    )
    assert await _stored(console) == {
        "community.channel": "1575088658841600016",
        "moderation.alert_channel": "mods",
        "onboarding.member_role": "300000000000000004",
    }


async def test_a_stored_value_no_longer_valid_gives_way_to_the_default_and_owners_hear(
    config: Config,
) -> None:
    console = ConsoleCommunity(config, start=START)
    await console.start(migrate=False)
    try:
        await console.run("/setup Test Community\n/config set digest.hour 7")
        community = console.app.directory.community_of("console", "console")
        assert community is not None
        async with UnitOfWork(console.app.services.db) as uow:
            # As an older release could have stored it.
            await uow.settings.set(community.id, "onboarding.nudge_after", 9999999 * 86400)
            await uow.commit()
        console.clear()
        await console.restart()
        community = console.app.directory.community_of("console", "console")
        assert community is not None
        directory = console.app.directory
        assert directory.setting(community, "onboarding.nudge_after") == 3 * 86400
        assert directory.setting(community, "digest.hour") == 7
        told = [t for t in console.seen_by("@owner") if "were not valid" in t]
        assert len(told) == 1 and "onboarding.nudge_after" in told[0]
        # A member joining now is onboarded as usual (no overflow in a handler).
        await console.run("/join dana")
        assert any("Welcome to Test Community" in t for t in console.seen_by("#general"))
    finally:
        await console.stop()
