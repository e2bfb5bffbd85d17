"""Community events through discord.py: `/event create` with Discord's named options,
the owner's private preview and confirmation, the post's buttons, its count edited
in place, and the waitlist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dc_fakeapi import BOT_ID
from dc_harness import DANA, GENERAL, GUILD, Harness, command, payload

from bot.app import App

FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
MESSAGES = "/channels/{channel_id}/messages"
EDIT = "/channels/{channel_id}/messages/{message_id}"
NOA_MEMBER = {
    "user": {"id": "200000000000000001", "username": "noa.owner", "global_name": "Noa"},
    "permissions": "2248473465835073",
}
ZOE = "200000000000000077"
NOA_ID = "200000000000000001"


def press(custom_id: str, message: dict[str, Any], *, by: str = DANA, n: int = 1) -> dict[str, Any]:
    data = payload("interaction_button", data={"custom_id": custom_id, "component_type": 2})
    data["id"] = f"6000000000000009{n:02d}"
    data["message"] = {**data["message"], **message}
    data["channel_id"] = message.get("channel_id", GENERAL)
    data["member"] = {**data["member"], "user": {**data["member"]["user"], "id": by, "username": f"u{by[-2:]}"}}
    if by == NOA_MEMBER["user"]["id"]:
        data["member"]["permissions"] = NOA_MEMBER["permissions"]
    return data


def buttons_of(call: Any) -> list[tuple[str, str]]:
    return [(b["label"], b["custom_id"]) for row in call.json["components"] for b in row["components"]]


async def test_create_confirm_and_answer_on_discord(core: tuple[App, Harness]) -> None:
    _app, bot = core
    bot.gateway("GUILD_CREATE", payload("guild_create"))
    await bot.settle()
    bot.gateway("INTERACTION_CREATE", command("setup", [{"type": 3, "name": "name", "value": "Café"}], by={}))
    await bot.settle()

    create = command(
        "event",
        [
            {
                "type": 1,
                "name": "create",
                "options": [
                    {"type": 3, "name": "title", "value": "Board games"},
                    {"type": 3, "name": "start", "value": "next Friday at noon"},
                    {"type": 3, "name": "duration", "value": "3h"},
                    {"type": 3, "name": "place", "value": "Café Lev"},
                    {"type": 3, "name": "capacity", "value": "1"},
                ],
            }
        ],
        by={},
    )
    create["id"] = "600000000000000055"
    bot.gateway("INTERACTION_CREATE", create)
    await bot.settle()
    preview = bot.api.find("POST", FOLLOWUP)[-1]
    assert preview.json["flags"] & 64  # only the owner sees it
    assert "Here is how I understood it" in (preview.content or "")
    # Read in the community's zone (UTC here), with the weekday and local time shown.
    assert "Friday, " in (preview.content or "")
    assert "12:00 PM" in (preview.content or "").replace("\u202f", " ")
    [(label, post_id), _discard] = buttons_of(preview)
    assert label == "Post it"
    assert not [c for c in bot.api.find("POST", MESSAGES) if "Board games" in (c.content or "")]

    bot.gateway("INTERACTION_CREATE", press(post_id, {"id": "800000000000000001", "components": preview.json["components"], "flags": 64}, by=NOA_MEMBER["user"]["id"], n=1))
    await bot.settle()
    [posted] = [c for c in bot.api.find("POST", MESSAGES) if "Board games" in (c.content or "")]
    assert posted.params["channel_id"] == GENERAL
    assert "0 going · 1 seat left" in (posted.content or "")
    rsvp = dict(buttons_of(posted))
    assert list(rsvp) == ["Going", "Maybe", "Can't go"]
    shown = {"id": "800000000000000002", "components": posted.json["components"], "channel_id": GENERAL}
    bot.gateway("INTERACTION_CREATE", press(rsvp["Going"], shown, by=DANA, n=2))
    await bot.settle()
    edit = bot.api.find("PATCH", EDIT)[-1]
    assert edit.params["channel_id"] == GENERAL
    assert "1 going · full" in (edit.content or "")
    assert "You are going to Board games" in (bot.api.find("POST", FOLLOWUP)[-1].content or "")

    bot.gateway("INTERACTION_CREATE", press(rsvp["Going"], shown, by=ZOE, n=3))
    await bot.settle()
    assert "number 1 on the waitlist" in (bot.api.find("POST", FOLLOWUP)[-1].content or "")
    assert "1 on the waitlist" in (bot.api.find("PATCH", EDIT)[-1].content or "")

    # The date is mirrored as a Discord scheduled event; interest there is an answer.
    [made] = bot.api.find("POST", "/guilds/{guild_id}/scheduled-events")
    assert made.json["name"] == "Board games"
    assert made.json["entity_metadata"] == {"location": "Café Lev"}
    external = list(bot.api.events)[-1]
    gone = payload("scheduled_event_user_add", guild_scheduled_event_id=external)
    bot.gateway("GUILD_SCHEDULED_EVENT_USER_REMOVE", gone)  # Dana is no longer interested
    await bot.settle()
    assert "waitlist" not in (bot.api.find("PATCH", EDIT)[-1].content or "")  # Zoe moved up
    assert "1 going · full" in (bot.api.find("PATCH", EDIT)[-1].content or "")
    bot.gateway("GUILD_SCHEDULED_EVENT_USER_ADD", gone)  # interested again: full now
    await bot.settle()
    assert "1 on the waitlist" in (bot.api.find("PATCH", EDIT)[-1].content or "")

    cancel = command(
        "event",
        [{"type": 1, "name": "cancel", "options": [{"type": 4, "name": "number", "value": 1}]}],
        by={},
    )
    cancel["id"] = "600000000000000066"
    bot.gateway("INTERACTION_CREATE", cancel)
    await bot.settle()
    [cancelled] = bot.api.find("PATCH", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}")
    assert cancelled.params["guild_scheduled_event_id"] == external
    assert cancelled.json["status"] == 4
    assert "Cancelled." in (bot.api.find("PATCH", EDIT)[-1].content or "")


def scheduled(event_id: str, name: str, start: datetime, *, creator: str, status: int = 1, place: str = "Park") -> dict[str, Any]:
    return {
        "id": event_id,
        "guild_id": GUILD,
        "channel_id": None,
        "creator_id": creator,
        "name": name,
        "description": "Bring water",
        "scheduled_start_time": start.isoformat(),
        "scheduled_end_time": (start + timedelta(hours=2)).isoformat(),
        "privacy_level": 2,
        "status": status,
        "entity_type": 3,
        "entity_id": None,
        "entity_metadata": {"location": place},
        "user_count": 0,
        "image": None,
    }


async def test_an_event_made_in_discords_own_interface_is_picked_up(core: tuple[App, Harness]) -> None:
    _app, bot = core
    bot.gateway("GUILD_CREATE", payload("guild_create"))
    await bot.settle()
    bot.gateway("INTERACTION_CREATE", command("setup", [{"type": 3, "name": "name", "value": "Café"}], by={}))
    await bot.settle()
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0, second=0, minute=0)

    # The bot's own mirrored events coming back are not taken for new ones.
    bot.gateway("GUILD_SCHEDULED_EVENT_CREATE", scheduled("700000000000000001", "Ours", start, creator=BOT_ID))
    bot.gateway("GUILD_SCHEDULED_EVENT_CREATE", scheduled("700000000000000002", "Hike", start, creator=NOA_ID))
    await bot.settle()
    cards = [c for c in bot.api.find("POST", MESSAGES) if "**Hike**" in (c.content or "")]
    assert len(cards) == 1 and "Where: Park" in (cards[0].content or "")
    assert not [c for c in bot.api.find("POST", MESSAGES) if "Ours" in (c.content or "")]
    assert [label for label, _ in buttons_of(cards[0])] == ["Going", "Maybe", "Can't go"]
    assert not bot.api.find("POST", "/guilds/{guild_id}/scheduled-events")  # not made again

    later = start + timedelta(hours=1)
    bot.gateway("GUILD_SCHEDULED_EVENT_UPDATE", scheduled("700000000000000002", "Hike", later, creator=NOA_ID, place="Forest"))
    await bot.settle()
    edited = bot.api.find("PATCH", EDIT)[-1].content or ""
    assert "Where: Forest" in edited

    bot.gateway("GUILD_SCHEDULED_EVENT_UPDATE", scheduled("700000000000000002", "Hike", later, creator=NOA_ID, status=4))
    await bot.settle()
    assert "Cancelled." in (bot.api.find("PATCH", EDIT)[-1].content or "")
    # The cancellation came from Discord: it is not sent back.
    assert not bot.api.find("PATCH", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}")
