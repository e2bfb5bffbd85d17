"""Private messages that could not be delivered yet, and their delivery.

Telegram does not let a bot write first: a member who never opened a chat with the
bot gets, instead of the message, a note in the group with a link that opens the
bot (the adapter's fallback). The core keeps the message; when the member opens the
chat (`/start`, with or without the link's payload), it is delivered. Messages older
than a week are dropped: by then they are stale.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.action_data import attachments_data, attachments_from, buttons_data, buttons_from
from bot.actions import Action, Reply, SendDirect
from bot.markup import Text, from_data, to_data
from storage.unit_of_work import UnitOfWork

KEEP_FOR = timedelta(days=7)


def to_record(action: SendDirect) -> dict[str, Any]:
    return {
        "text": to_data(action.text.nodes),
        "buttons": buttons_data(action.buttons),
        "attachments": attachments_data(action.attachments),
        "locale": action.locale,
    }


def from_record(platform: str, user_id: str, data: dict[str, Any]) -> SendDirect:
    return SendDirect(
        platform=platform,  # type: ignore[arg-type]
        user_id=user_id,
        text=Text(from_data(data["text"])),
        buttons=buttons_from(data["buttons"]),
        attachments=attachments_from(data["attachments"]),
        locale=data.get("locale"),
    )


def as_direct(action: Action) -> SendDirect | None:
    """The private message an action meant to deliver (a private reply is one too)."""
    if isinstance(action, SendDirect):
        return action
    if isinstance(action, Reply) and action.to.actor is not None:
        return SendDirect(
            platform=action.platform,
            user_id=action.to.actor.user_id,
            text=action.text,
            buttons=action.buttons,
            attachments=action.attachments,
            locale=action.locale,
            confidential=action.confidential,
        )
    return None


async def keep(uow: UnitOfWork, action: SendDirect, now: datetime) -> None:
    await uow.pending.add(action.platform, action.user_id, to_record(action), now)


async def take(uow: UnitOfWork, platform: str, user_id: str, now: datetime) -> list[SendDirect]:
    records = await uow.pending.take(platform, user_id, now - KEEP_FOR)
    return [from_record(platform, user_id, r) for r in records]
