"""Buttons of a choice made, through discord.py: disabled where only the presser sees
them (an ephemeral answer, a direct message), left to the others in a channel; and a
second press (before the client showed them disabled) gets an honest answer."""

from __future__ import annotations

from typing import Any

from dc_harness import DANA, GUILD, Harness, command, payload

from bot.actions import AnswerButton
from bot.app import App
from bot.events import ButtonPressed

FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
ORIGINAL = "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
ALREADY = "You already answered this. Pressing it again changes nothing."
DANA_MEMBER = {
    "user": {**payload("interaction_button")["member"]["user"], "id": DANA},
    "permissions": "2222085186636353",  # no Manage Server
}


def press(label: str, asked: dict[str, Any], interaction_id: str) -> dict[str, Any]:
    """Dana presses the button labelled `label` of the message `asked` (a follow-up's
    body): the INTERACTION_CREATE Discord sends for it."""
    buttons = [b for row in asked["components"] for b in row["components"]]
    button = next(b for b in buttons if b["label"] == label)
    data = payload("interaction_button", id=interaction_id)
    data["data"] = {"custom_id": button["custom_id"], "component_type": 2}
    data["message"] = {
        **data["message"],
        "id": "500000000000000123",
        "flags": asked.get("flags", 0),
        "components": asked["components"],
    }
    return data


async def test_forgetme_buttons_are_disabled_and_a_second_press_changes_nothing(
    core: tuple[App, Harness],
) -> None:
    app, bot = core
    bot.gateway("GUILD_CREATE", payload("guild_create"))
    await bot.settle()
    bot.gateway("INTERACTION_CREATE", command("setup", [{"type": 3, "name": "name",
                                                         "value": "Café Friends"}], by={}))  # fmt: skip
    await bot.settle()
    bot.gateway("MESSAGE_CREATE", payload("message_create"))  # Dana says hello
    await bot.settle()
    forgetme = command("forgetme", [], by=DANA_MEMBER)
    forgetme["id"] = "600000000000000031"
    bot.gateway("INTERACTION_CREATE", forgetme)
    await bot.settle()
    [asked] = [c.json for c in bot.api.find("POST", FOLLOWUP) if c.json.get("components")]
    assert asked["flags"] & 64  # only Dana sees it

    bot.gateway("INTERACTION_CREATE", press("No, keep it", asked, "600000000000000032"))
    await bot.settle()
    assert bot.api.find("POST", FOLLOWUP)[-1].content == "Nothing was deleted."
    [closed] = bot.api.find("PATCH", ORIGINAL)
    shown = [b for row in closed.json["components"] for b in row["components"]]
    assert [b["label"] for b in shown] == ["Yes, delete my data", "No, keep it"]
    assert all(b["disabled"] for b in shown)

    # Her client had not shown them disabled yet: she presses "Yes, delete" too.
    bot.gateway("INTERACTION_CREATE", press("Yes, delete my data", asked, "600000000000000033"))
    await bot.settle()
    answer = bot.api.find("POST", FOLLOWUP)[-1]
    assert answer.content == ALREADY and answer.json["flags"] & 64
    community = app.directory.community_of("discord", GUILD)
    assert community is not None
    assert app.directory.member(community.id, "discord", DANA) is not None, "nothing deleted"


async def test_buttons_of_a_message_everyone_sees_stay(discord_bot: Harness) -> None:
    bot = discord_bot
    bot.core.respond = lambda e: [
        AnswerButton(platform="discord", to=e, close=True)  # type: ignore[arg-type]
    ]
    asked = {
        "flags": 0,
        "components": [{"type": 1, "components": [
            {"type": 2, "style": 1, "label": "Going", "custom_id": "events:rsvp:42"}]}],
    }  # fmt: skip
    bot.gateway("INTERACTION_CREATE", press("Going", asked, "600000000000000041"))
    await bot.core.next(ButtonPressed)
    await bot.settle()
    assert not bot.api.find("PATCH", ORIGINAL)
