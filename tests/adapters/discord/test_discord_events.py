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
    data["member"] = {
        **data["member"],
        "user": {**data["member"]["user"], "id": by, "username": f"u{by[-2:]}"},
    }
    if by == NOA_MEMBER["user"]["id"]:
        data["member"]["permissions"] = NOA_MEMBER["permissions"]
    return data


def buttons_of(call: Any) -> list[tuple[str, str]]:
    return [
        (b["label"], b["custom_id"]) for row in call.json["components"] for b in row["components"]
    ]


async def set_up(bot: Harness) -> None:
    bot.gateway("GUILD_CREATE", payload("guild_create"))
    await bot.settle()
    bot.gateway(
        "INTERACTION_CREATE",
        command("setup", [{"type": 3, "name": "name", "value": "Café"}], by={}),
    )
    await bot.settle()


async def test_create_confirm_and_answer_on_discord(core: tuple[App, Harness]) -> None:
    _app, bot = core
    await set_up(bot)

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

    bot.gateway(
        "INTERACTION_CREATE",
        press(
            post_id,
            {"id": "800000000000000001", "components": preview.json["components"], "flags": 64},
            by=NOA_MEMBER["user"]["id"],
            n=1,
        ),
    )
    await bot.settle()
    [posted] = [c for c in bot.api.find("POST", MESSAGES) if "Board games" in (c.content or "")]
    assert posted.params["channel_id"] == GENERAL
    assert "0 going · 1 seat left" in (posted.content or "")
    rsvp = dict(buttons_of(posted))
    assert list(rsvp) == ["Going", "Maybe", "Can't go"]
    shown = {
        "id": "800000000000000002",
        "components": posted.json["components"],
        "channel_id": GENERAL,
    }
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
    [cancelled] = bot.api.find(
        "PATCH", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}"
    )
    assert cancelled.params["guild_scheduled_event_id"] == external
    assert cancelled.json["status"] == 4
    assert "Cancelled." in (bot.api.find("PATCH", EDIT)[-1].content or "")


def scheduled(
    event_id: str, name: str, start: datetime, *, creator: str, status: int = 1, place: str = "Park"
) -> dict[str, Any]:
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


async def test_an_event_made_in_discords_own_interface_is_picked_up(
    core: tuple[App, Harness],
) -> None:
    _app, bot = core
    await set_up(bot)
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0, second=0, minute=0)

    # The bot's own mirrored events coming back are not taken for new ones.
    bot.gateway(
        "GUILD_SCHEDULED_EVENT_CREATE",
        scheduled("700000000000000001", "Ours", start, creator=BOT_ID),
    )
    bot.gateway(
        "GUILD_SCHEDULED_EVENT_CREATE",
        scheduled("700000000000000002", "Hike", start, creator=NOA_ID),
    )
    await bot.settle()
    cards = [c for c in bot.api.find("POST", MESSAGES) if "**Hike**" in (c.content or "")]
    assert len(cards) == 1 and "Where: Park" in (cards[0].content or "")
    assert not [c for c in bot.api.find("POST", MESSAGES) if "Ours" in (c.content or "")]
    assert [label for label, _ in buttons_of(cards[0])] == ["Going", "Maybe", "Can't go"]
    assert not bot.api.find("POST", "/guilds/{guild_id}/scheduled-events")  # not made again

    later = start + timedelta(hours=1)
    bot.gateway(
        "GUILD_SCHEDULED_EVENT_UPDATE",
        scheduled("700000000000000002", "Hike", later, creator=NOA_ID, place="Forest"),
    )
    await bot.settle()
    edited = bot.api.find("PATCH", EDIT)[-1].content or ""
    assert "Where: Forest" in edited

    bot.gateway(
        "GUILD_SCHEDULED_EVENT_UPDATE",
        scheduled("700000000000000002", "Hike", later, creator=NOA_ID, status=4),
    )
    await bot.settle()
    assert "Cancelled." in (bot.api.find("PATCH", EDIT)[-1].content or "")
    # The cancellation came from Discord: it is not sent back.
    assert not bot.api.find(
        "PATCH", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}"
    )


# --- Discord's events at (re)connect: what was made or changed there while the bot was away ---

EVENT = "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}"


def reconnect(*events: dict[str, Any]) -> dict[str, Any]:
    """The guild's GUILD_CREATE after a restart or a new gateway session: it lists the
    guild's current scheduled events (discord.py dispatches `guild_available`)."""
    return payload("guild_create", unavailable=False, guild_scheduled_events=list(events))


def sent(bot: Harness, since: int) -> list[Any]:
    """What the bot sent to Discord after the `since`-th call (reads left out: a new
    session reloads the invites)."""
    return [c for c in bot.api.calls[since:] if c.method != "GET"]


async def post_event(bot: Harness, place: str = "Café Lev") -> str:
    """The owner posts "Board games" with /event create; its mirrored Discord event's id."""
    create = command(
        "event",
        [
            {
                "type": 1,
                "name": "create",
                "options": [
                    {"type": 3, "name": "title", "value": "Board games"},
                    {"type": 3, "name": "start", "value": "next Friday at noon"},
                    {"type": 3, "name": "place", "value": place},
                ],
            }
        ],
        by={},
    )
    create["id"] = "600000000000000055"
    bot.gateway("INTERACTION_CREATE", create)
    await bot.settle()
    preview = bot.api.find("POST", FOLLOWUP)[-1]
    [(_, post_id), _discard] = buttons_of(preview)
    shown = {"id": "800000000000000001", "components": preview.json["components"], "flags": 64}
    bot.gateway("INTERACTION_CREATE", press(post_id, shown, by=NOA_ID))
    await bot.settle()
    assert bot.api.find("POST", "/guilds/{guild_id}/scheduled-events")
    return list(bot.api.events)[-1]


async def test_an_event_made_in_discord_while_the_bot_was_away_is_imported_once(
    core: tuple[App, Harness],
) -> None:
    _app, bot = core
    await set_up(bot)
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0, second=0, minute=0)
    listed = (
        scheduled("700000000000000002", "Hike", start, creator=NOA_ID),
        # The bot's own (a mirrored date whose id was never stored) is not taken for a new one.
        scheduled("700000000000000001", "Ours", start, creator=BOT_ID),
    )

    bot.gateway("GUILD_CREATE", reconnect(*listed))
    await bot.settle()
    cards = [c for c in bot.api.find("POST", MESSAGES) if "**Hike**" in (c.content or "")]
    assert len(cards) == 1
    assert "Where: Park" in (cards[0].content or "")
    assert [label for label, _ in buttons_of(cards[0])] == ["Going", "Maybe", "Can't go"]
    assert not [c for c in bot.api.find("POST", MESSAGES) if "Ours" in (c.content or "")]

    # Another new session lists it again: nothing is posted, edited or synced.
    calls = len(bot.api.calls)
    bot.gateway("GUILD_CREATE", reconnect(*listed))
    await bot.settle()
    assert not sent(bot, calls)


async def test_a_mirrored_event_moved_in_discord_while_the_bot_was_away_is_updated(
    core: tuple[App, Harness],
) -> None:
    _app, bot = core
    await set_up(bot)
    external = await post_event(bot)
    moved = dict(bot.api.events[external])
    start = datetime.fromisoformat(moved["scheduled_start_time"]) + timedelta(hours=2)
    moved["scheduled_start_time"] = start.isoformat()
    moved["scheduled_end_time"] = (start + timedelta(hours=2)).isoformat()

    calls = len(bot.api.calls)
    bot.gateway("GUILD_CREATE", reconnect(moved))
    await bot.settle()
    # The card shows the new time (those who answered are told privately).
    [edit] = [c for c in sent(bot, calls) if c.method == "PATCH"]
    assert edit.route == EDIT and "Board games" in (edit.content or "")
    assert "2:00 PM–4:00 PM" in (edit.content or "").replace("\u202f", " ")

    # Listed again unchanged: not announced twice.
    calls = len(bot.api.calls)
    bot.gateway("GUILD_CREATE", reconnect(moved))
    await bot.settle()
    assert not sent(bot, calls)


async def test_a_mirrored_event_missing_from_the_list_is_left_alone(
    core: tuple[App, Harness],
) -> None:
    _app, bot = core
    await set_up(bot)
    await post_event(bot)

    # Cancelled in Discord while away, or hidden by a missing permission: not listed.
    calls = len(bot.api.calls)
    bot.gateway("GUILD_CREATE", reconnect())
    await bot.settle()
    assert not sent(bot, calls)
    # The date is still open: a member can still answer.
    [posted] = [c for c in bot.api.find("POST", MESSAGES) if "Board games" in (c.content or "")]
    going = dict(buttons_of(posted))["Going"]
    shown = {
        "id": "800000000000000002",
        "components": posted.json["components"],
        "channel_id": GENERAL,
    }
    bot.gateway("INTERACTION_CREATE", press(going, shown, by=DANA, n=2))
    await bot.settle()
    assert "1 going" in (bot.api.find("PATCH", EDIT)[-1].content or "")
    assert not bot.api.find("PATCH", EVENT)


async def test_a_mirrored_event_listed_as_discord_keeps_it_is_not_changed(
    core: tuple[App, Harness],
) -> None:
    _app, bot = core
    await set_up(bot)
    place = "The community hall behind the old library, second floor, the room with the long tables and the old piano"
    external = await post_event(bot, place=place)
    listed = bot.api.events[external]
    assert len(place) > 100 and listed["entity_metadata"]["location"] == place[:100]  # cut there

    calls = len(bot.api.calls)
    bot.gateway("GUILD_CREATE", reconnect(listed))
    await bot.settle()
    assert not sent(bot, calls)  # no "New place", the card keeps the whole place
