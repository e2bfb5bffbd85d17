"""Moderator alerts through discord.py: gateway events and interactions parsed by
discord.py itself, against the fake HTTP API, under the real core."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from dc_harness import DANA, GENERAL, NOA, Harness, command, member_add, payload
from test_discord_channels import RULES, _community, _run, config_set

from bot.app import App

MESSAGES = "/channels/{channel_id}/messages"
FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
EDIT = "/channels/{channel_id}/messages/{message_id}"
_ids = itertools.count(510000000000000001)
DISCORD_EPOCH_MS = 1_420_070_400_000


async def drained_only(app: App) -> None:
    """Only `app.outbox.drain()` sends from here on (no background worker racing it),
    and it returns once what it sent is marked sent: an alert's edit needs that."""
    await app.outbox.stop()
    await app.outbox.start(background=False)


def snowflake(created: datetime) -> str:
    """A Discord id made at `created` (ids carry their creation time)."""
    return str((int(created.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22)


def posted(bot: Harness, message: str) -> None:
    data = payload("message_create", id=str(next(_ids)), content=message)
    data["timestamp"] = datetime.now(UTC).isoformat()
    bot.gateway("MESSAGE_CREATE", data)


def alerts_in_rules(bot: Harness) -> list[Any]:
    return [c for c in bot.api.find("POST", MESSAGES) if c.params["channel_id"] == RULES]


def press(bot: Harness, alert: Any, custom_id: str) -> None:
    data = payload("interaction_button", data={"custom_id": custom_id, "component_type": 2})
    data["id"] = str(next(_ids))
    owner = payload("interaction_command")["member"]
    data["member"] = owner
    data["channel_id"] = RULES
    data["message"] = {
        **data["message"],
        "id": "800000000000000001",  # the alert as Discord shows it
        "channel_id": RULES,
        "components": alert.json["components"],
    }
    bot.gateway("INTERACTION_CREATE", data)


def custom_ids(alert: Any) -> dict[str, str]:
    return {
        b["label"]: b["custom_id"] for row in alert.json["components"] for b in row["components"]
    }


async def test_a_flood_alert_in_the_moderators_channel_with_working_buttons(
    core: tuple[App, Harness],
) -> None:
    app, bot = await _community(core)
    await drained_only(app)
    await config_set(bot, "moderation.flood", "on")
    await config_set(bot, "moderation.flood_per_minute", "3")
    await config_set(bot, "moderation.alert_channel", "#rules")
    for i in range(6):
        posted(bot, f"Join my server for free nitro {i}")
    await bot.settle()
    await app.outbox.drain()
    [alert] = alerts_in_rules(bot)
    assert "Dana posted 4 messages within a minute" in (alert.content or "")
    ids = custom_ids(alert)
    assert list(ids) == ["Delete message", "Time out", "Kick", "Ban", "Handled", "False alarm"]

    press(bot, alert, ids["Delete message"])
    await bot.settle()
    [deleted] = bot.api.find("DELETE", EDIT)
    assert deleted.params["channel_id"] == GENERAL
    edits = bot.api.find("PATCH", EDIT)
    assert "Noa deleted the message" in (edits[-1].content or "")

    press(bot, alert, ids["Time out"])
    await bot.settle()
    [timeout] = bot.api.find("PATCH", "/guilds/{guild_id}/members/{user_id}")
    assert timeout.params["user_id"] == DANA and timeout.json["communication_disabled_until"]
    assert "Noa timed the member out" in (bot.api.find("PATCH", EDIT)[-1].content or "")

    press(bot, alert, ids["False alarm"])
    await bot.settle()
    last = bot.api.find("PATCH", EDIT)[-1]
    assert "Noa called it a false alarm" in (last.content or "")
    assert not last.json.get("components")


async def test_a_raid_counts_young_accounts_from_their_ids(core: tuple[App, Harness]) -> None:
    app, bot = await _community(core)
    await drained_only(app)
    await config_set(bot, "moderation.raid", "on")
    await config_set(bot, "moderation.surge_per_minute", "3")
    await config_set(bot, "moderation.alert_channel", "#rules")
    now = datetime.now(UTC)
    ages = [timedelta(hours=2)] * 4 + [timedelta(days=900)]
    for i, age in enumerate(ages):
        bot.gateway(
            "GUILD_MEMBER_ADD", member_add(snowflake(now - age - timedelta(seconds=i)), f"r{i}")
        )
        await bot.settle()
    await app.outbox.drain()
    [alert] = [a for a in alerts_in_rules(bot) if "Raid in" in (a.content or "")]
    assert "4 members joined within minutes" in (alert.content or "")
    assert "4 of 4 accounts were created less than 1 week ago" in (alert.content or "")


async def test_a_member_reports_a_message_from_its_menu_and_stays_private(
    core: tuple[App, Harness],
) -> None:
    app, bot = await _community(core)
    await drained_only(app)
    published = bot.api.find("PUT", "/applications/{application_id}/commands")[-1].json
    [menu] = [c for c in published if c.get("type") == 3]
    assert menu["name"] == "Report message" and menu["name_localizations"]["de"]
    await config_set(bot, "moderation.alert_channel", "#rules")
    message = payload("message_create", id=str(next(_ids)), content="Buy followers, cheap!")
    bot.gateway("MESSAGE_CREATE", message)
    await bot.settle()
    report = command("ignored", [], by={})
    report["id"] = str(next(_ids))
    report["data"] = {
        "id": "700000000000000010",
        "name": "Report message",
        "type": 3,
        "target_id": message["id"],
        "resolved": {"messages": {message["id"]: message}},
    }
    before = len(bot.api.calls)
    bot.gateway("INTERACTION_CREATE", report)
    await bot.settle()
    await app.outbox.drain()
    [thanks] = [c for c in bot.api.calls[before:] if c.route == FOLLOWUP]
    assert thanks.json["flags"] & 64 and "Thank you for your report" in (thanks.content or "")
    [alert] = alerts_in_rules(bot)
    assert "a member reported a message by Dana" in (alert.content or "")
    assert "Noa" not in (alert.content or "") and "Buy followers, cheap!" in (alert.content or "")


async def test_a_watched_word_in_a_german_compound(core: tuple[App, Harness]) -> None:
    app, bot = await _community(core)
    await drained_only(app)
    await config_set(bot, "moderation.watch", "on")
    await config_set(bot, "moderation.alert_channel", "#rules")
    add = [{"type": 3, "name": "entry", "value": "idiot"}]
    answer = await _run(bot, "watch", [{"type": 1, "name": "add", "options": add}])
    assert "Now watching “idiot”" in answer
    posted(bot, "Du bist ein Vollidiot")
    posted(bot, "Idioms are fun")
    await bot.settle()
    await app.outbox.drain()
    [alert] = alerts_in_rules(bot)
    assert "Watched word in Café Friends: Dana wrote “Vollidiot”" in (alert.content or "")
    assert "Watched entry: idiot" in (alert.content or "")
    assert "Du bist ein Vollidiot" in (alert.content or "")


async def test_status_says_what_works_with_the_bot_s_permissions(
    core: tuple[App, Harness],
) -> None:
    _app, bot = await _community(core)
    # /setup's owner heard it privately already.
    [note] = [c for c in bot.api.find("POST", FOLLOWUP) if "Moderator alerts" in (c.content or "")]
    assert note.json["flags"] & 64 and "needs Ban Members" in (note.content or "")
    status = await _run(bot, "moderation", [{"type": 1, "name": "status", "options": []}])
    assert "Raids: off" in status and "Reports: on" in status
    # The test server gives the bot Manage Messages and Kick Members, not the others.
    assert "“Time out” needs Timeout Members, which the bot does not have." in status
    assert "“Ban” needs Ban Members, which the bot does not have." in status
    assert "Delete message" not in status and "“Kick”" not in status
    assert "Message Content" not in status
    # Without the Message Content intent, the detectors that read text cannot work.
    bot.adapter.inbound.message_content = False
    status = await _run(bot, "moderation", [{"type": 1, "name": "status", "options": []}])
    assert (
        "Discord: the Message Content intent is off, so floods, watched words and unanswered "
        "questions cannot work (raids and reports do)." in status
    )


async def test_private_alerts_each_moderator_s_copy_is_edited(core: tuple[App, Harness]) -> None:
    app, bot = await _community(core)
    await drained_only(app)
    posted(bot, "hello")  # Dana is a member now
    await bot.settle()
    names = [
        {"type": 3, "name": "role", "value": "moderator"},
        {"type": 3, "name": "member", "value": "Dana"},
    ]
    await _run(bot, "staff", [{"type": 1, "name": "set", "options": names}])
    await config_set(bot, "moderation.flood", "on")
    await config_set(bot, "moderation.flood_per_minute", "3")
    for i in range(4):
        data = payload("message_create", id=str(next(_ids)), content=f"free nitro here {i}")
        data["author"] = {**data["author"], "id": "200000000000000077", "global_name": "Eve"}
        bot.gateway("MESSAGE_CREATE", data)
    await bot.settle()
    await app.outbox.drain()
    noa_dm, dana_dm = "41" + NOA[2:], "41" + DANA[2:]
    [for_noa] = [
        c
        for c in bot.api.find("POST", MESSAGES)
        if c.params["channel_id"] == noa_dm and "Flood in" in (c.content or "")
    ]
    assert [
        c
        for c in bot.api.find("POST", MESSAGES)
        if c.params["channel_id"] == dana_dm and "Flood in" in (c.content or "")
    ]
    # Noa presses Delete in her private chat.
    press_data = payload(
        "interaction_button",
        data={"custom_id": custom_ids(for_noa)["Delete message"], "component_type": 2},
    )
    press_data["id"] = str(next(_ids))
    press_data.pop("guild_id", None)
    owner = payload("interaction_command")["member"]
    press_data.pop("member", None)
    press_data["user"] = owner["user"]
    press_data["channel_id"] = noa_dm
    press_data["channel"] = {"id": noa_dm, "type": 1, "recipients": [owner["user"]]}
    press_data["message"] = {
        **press_data["message"],
        "id": "800000000000000002",
        "channel_id": noa_dm,
        "components": for_noa.json["components"],
    }
    bot.gateway("INTERACTION_CREATE", press_data)
    await bot.settle()
    await app.outbox.drain()
    edited = {c.params["channel_id"]: c.content for c in bot.api.find("PATCH", EDIT)}
    assert "Noa deleted the message" in (edited.get(noa_dm) or "")
    assert "Noa deleted the message" in (edited.get(dana_dm) or "")
