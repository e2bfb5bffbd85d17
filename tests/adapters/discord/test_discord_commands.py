"""Core commands published as Discord application commands, synced only on change."""

from __future__ import annotations

from typing import Any

from dc_fakeapi import FakeDiscord
from dc_harness import Harness, config

from adapters.discord.commands import parse_invocation
from adapters.discord.inbound import DONE
from bot.commands import CommandSpec, OptionSpec, Permission, merged_commands
from bot.features import all_features
from bot.i18n import LOCALES, gettext

GLOBAL = "/applications/{application_id}/commands"
GUILD_COMMANDS = "/applications/{application_id}/guilds/{guild_id}/commands"

# The adapter's own catalog has "Done." in German ("Erledigt."): the localization
# path is the same for every msgid, whichever domain holds it.
SPECS = [
    CommandSpec(name="help", description=DONE, needs_community=False),
    CommandSpec(
        name="config",
        description="Change the community's settings",
        permission=Permission.OWNER,
        subcommands=(
            CommandSpec(
                name="set",
                description="Set one setting",
                permission=Permission.OWNER,
                options=(
                    OptionSpec("key", "Which setting"),
                    OptionSpec("value", "The new value", type="text"),
                ),
            ),
        ),
    ),
    CommandSpec(
        name="warn",
        description="Warn a member",
        permission=Permission.MODERATOR,
        options=(
            OptionSpec("reason", "Why", required=False),
            OptionSpec("level", "How serious", type="choice", choices=("low", "high")),
            OptionSpec("days", "For how long", type="integer"),
            OptionSpec("silent", "Do not notify", type="boolean", required=False),
        ),
    ),
]


async def test_commands_are_published_localized_with_default_permissions(
    api: FakeDiscord,
) -> None:
    bot = await Harness(api).open()
    await bot.adapter.publish_commands(SPECS)

    (put,) = api.find("PUT", GLOBAL)
    published = {c["name"]: c for c in put.json}
    assert published["help"]["description"] == "Done."
    assert published["help"]["description_localizations"] == {"de": "Erledigt."}
    assert published["help"]["default_member_permissions"] is None
    assert published["config"]["default_member_permissions"] == "32"  # Manage Server
    assert published["warn"]["default_member_permissions"] == "8192"  # Manage Messages

    (set_,) = published["config"]["options"]
    assert (set_["type"], set_["name"]) == (1, "set")
    assert [(o["name"], o["type"], o["required"]) for o in set_["options"]] == [
        ("key", 3, True),
        ("value", 3, True),
    ]
    warn = published["warn"]["options"]
    # Required first, as Discord demands; typed; choices offered.
    assert [(o["name"], o["type"], o["required"]) for o in warn] == [
        ("level", 3, True),
        ("days", 4, True),
        ("reason", 3, False),
        ("silent", 5, False),
    ]
    assert warn[0]["choices"] == [
        {"name": "low", "value": "low"},
        {"name": "high", "value": "high"},
    ]
    await bot.close()


async def test_an_unchanged_command_set_is_not_synced_again(api: FakeDiscord) -> None:
    first = await Harness(api).open()
    await first.adapter.publish_commands(SPECS)
    await first.adapter.publish_commands(SPECS)  # same process: not even fetched
    assert api.routes().count("GET " + GLOBAL) == 1
    await first.close()

    restarted = await Harness(api).open()  # a restart: Discord already has them
    await restarted.adapter.publish_commands(SPECS)
    assert len(api.find("PUT", GLOBAL)) == 1

    changed = [*SPECS, CommandSpec(name="stats", description="Community numbers")]
    await restarted.adapter.publish_commands(changed)
    puts = api.find("PUT", GLOBAL)
    assert len(puts) == 2 and "stats" in {c["name"] for c in puts[-1].json}
    await restarted.close()


async def test_dev_guilds_get_their_commands_directly(api: FakeDiscord) -> None:
    bot = await Harness(api, config(dev_guild_ids=[100000000000000001])).open()
    await bot.adapter.publish_commands(SPECS)
    (put,) = api.find("PUT", GUILD_COMMANDS)
    assert put.params["guild_id"] == "100000000000000001"
    assert not api.find("PUT", GLOBAL)
    await bot.close()


async def test_commands_published_before_login_sync_in_setup_hook(api: FakeDiscord) -> None:
    bot = Harness(api)
    await bot.adapter.publish_commands(SPECS)
    assert not api.calls
    await bot.open()
    assert len(api.find("PUT", GLOBAL)) == 1
    await bot.close()


def test_an_invocation_keeps_the_declared_option_order() -> None:
    specs = {s.name: s for s in SPECS}
    data = {
        "name": "warn",
        "options": [
            {"name": "level", "type": 3, "value": "high"},
            {"name": "days", "type": 4, "value": 3},
            {"name": "reason", "type": 3, "value": "spam links"},
        ],
    }
    name, args, options = parse_invocation(data, specs)
    assert (name, args) == ("warn", ("spam links", "high", "3"))
    assert options == (("reason", "spam links"), ("level", "high"), ("days", "3"))


def _option(command: dict[str, Any], *path: str) -> dict[str, Any]:
    options = command["options"]
    for name in path:
        found = next(o for o in options if o["name"] == name)
        options = found.get("options", [])
    return found


async def test_kehilas_own_commands_declare_ranges_permissions_and_where_they_work(
    api: FakeDiscord,
) -> None:
    """The payload the shipped features publish: integer options carry their range
    (Discord's client refuses 24 as an hour); /setup and owner commands are hidden
    from members in the server and not offered at all in the bot's DMs, where
    Discord's default permissions do not apply; members' commands work in both."""
    bot = await Harness(api).open()
    await bot.adapter.publish_commands(
        merged_commands(s for f in all_features() for s in f.commands)
    )
    published = {c["name"]: c for c in api.find("PUT", GLOBAL)[-1].json}

    hour = _option(published["digest"], "settings", "hour")
    assert (hour["type"], hour["min_value"], hour["max_value"]) == (4, 0, 23)
    weeks = _option(published["export"], "activity", "weeks")
    assert (weeks["min_value"], weeks["max_value"]) == (1, 52)
    number = _option(published["onboarding"], "question", "remove", "number")
    assert number["min_value"] == 1 and number["max_value"] >= 1

    manage_server = "32"
    assert published["setup"]["default_member_permissions"] == manage_server
    assert published["setup"]["contexts"] == [0]  # a server only
    for owner_command in ("config", "staff", "spaces", "digest", "onboarding", "export"):
        assert published[owner_command]["default_member_permissions"] == manage_server
        assert published[owner_command]["contexts"] == [0], owner_command
    for member_command in ("help", "start", "mydata", "forgetme"):
        assert published[member_command]["default_member_permissions"] is None
        assert published[member_command]["contexts"] == [0, 1], member_command
    await bot.close()


def _in_german(choice: dict[str, Any]) -> str:
    """What Discord shows a German member: the translation, or the name if it has none."""
    return str(choice.get("name_localizations", {}).get("de", choice["name"]))


async def test_choices_are_named_in_the_members_language_and_a_restart_writes_nothing(
    api: FakeDiscord,
) -> None:
    """A German owner picks "Donnerstag" and "Flut" from Discord's list; the value sent
    back is the choice itself. What Discord then has (translations included) compares
    unchanged at the next start: no second write."""
    specs = merged_commands(s for f in all_features() for s in f.commands)
    bot = await Harness(api).open()
    await bot.adapter.publish_commands(specs)
    published = {c["name"]: c for c in api.find("PUT", GLOBAL)[-1].json}
    day = _option(published["digest"], "settings", "day")
    assert day["choices"][3] == {
        "name": "Thursday",
        "value": "thu",
        "name_localizations": {"de": "Donnerstag"},
    }
    detector = _option(published["moderation"], "on", "detector")
    assert [(c["value"], _in_german(c)) for c in detector["choices"]] == [
        ("raid", "Raids"),
        ("flood", "Flut"),
        ("watch", "Beobachtete Wörter"),
        ("reports", "Meldungen"),
        ("questions", "Offene Fragen"),
    ]
    role = _option(published["staff"], "set", "role")
    assert [_in_german(c) for c in role["choices"]] == [
        "Eigentümer",
        "Moderator",
        "Mitglied",
    ]
    await bot.close()

    restarted = await Harness(api).open()
    await restarted.adapter.publish_commands(specs)
    assert len(api.find("PUT", GLOBAL)) == 1
    await restarted.close()


async def test_a_changed_range_is_synced(api: FakeDiscord) -> None:
    days = OptionSpec("days", "For how long", type="integer", minimum=1, maximum=7)
    first = await Harness(api).open()
    await first.adapter.publish_commands([CommandSpec("mute", "Mute", options=(days,))])
    await first.close()

    wider = OptionSpec("days", "For how long", type="integer", minimum=1, maximum=28)
    restarted = await Harness(api).open()
    await restarted.adapter.publish_commands([CommandSpec("mute", "Mute", options=(wider,))])
    puts = api.find("PUT", GLOBAL)
    assert len(puts) == 2 and puts[-1].json[0]["options"][0]["max_value"] == 28
    await restarted.close()


def test_every_description_fits_discord_in_every_language() -> None:
    """Discord takes at most 100 characters for a command's or option's description:
    no translation of ours is cut short in its menu."""

    def descriptions(spec: CommandSpec) -> list[str]:
        out = [spec.description, *(o.description for o in spec.options)]
        for sub in spec.subcommands:
            out += descriptions(sub)
        return out

    specs = merged_commands(s for f in all_features() for s in f.commands)
    msgids = {d for spec in specs for d in descriptions(spec)}
    assert len(msgids) > 50
    too_long = [
        (locale, gettext(locale, m))
        for m in msgids
        for locale in LOCALES
        if len(gettext(locale, m)) > 100
    ]
    assert not too_long
