"""Every adapter maps action types to its code the same way (`bot.ports.ActionTable`),
and its table agrees with the capabilities it declares."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from bot.actions import (
    Action,
    ActionResult,
    AnswerButton,
    AssignRole,
    CreateInvite,
    Delete,
    Edit,
    Kick,
    RemoveRole,
    Reply,
    Restrict,
    Send,
    SendDirect,
    SyncScheduledEvent,
    Unrestrict,
    UnsupportedAction,
)
from bot.config import Config, DiscordSection
from bot.markup import Text
from bot.ports import ActionTable, Capabilities


@dataclass(frozen=True, slots=True, kw_only=True)
class Shout(Action):
    """An action type no adapter knows."""


def _tables() -> list[tuple[str, ActionTable, Capabilities]]:
    from adapters.console.adapter import ConsoleAdapter
    from adapters.discord.adapter import DiscordAdapter
    from adapters.discord.outbound import Outbound
    from adapters.telegram.adapter import CAPABILITIES
    from adapters.telegram.outbound import Outbound as TelegramOutbound

    discord = DiscordAdapter(Config(discord=DiscordSection(token=SecretStr("t"))))
    return [
        ("console", ConsoleAdapter.actions, ConsoleAdapter.capabilities),
        ("discord", Outbound.actions, discord.capabilities),
        ("telegram", TelegramOutbound.actions, CAPABILITIES),
    ]


async def test_each_table_performs_what_the_capabilities_promise() -> None:
    for platform, table, caps in _tables():
        kinds = table.kinds
        assert table.platform == platform
        assert {Send, Reply, SendDirect, Edit, Delete, Kick, AnswerButton} <= kinds, platform
        assert (AssignRole in kinds) == (RemoveRole in kinds) == caps.roles, platform
        assert ({Restrict, Unrestrict} <= kinds) == caps.restrict, platform
        assert (CreateInvite in kinds) == caps.invites, platform
        assert (SyncScheduledEvent in kinds) == caps.scheduled_events, platform


async def test_an_unknown_type_is_refused_the_same_way_by_every_adapter() -> None:
    for platform, table, _caps in _tables():
        with pytest.raises(
            UnsupportedAction, match=f"^the {platform} adapter cannot perform Shout$"
        ):
            await table.perform(object(), Shout(platform="console"))


async def test_a_table_takes_each_type_once_and_looks_up_the_exact_type() -> None:
    table = ActionTable("test")

    class Owner:
        @table.performs(Send)
        async def send(self, action: Send) -> ActionResult:
            return ActionResult(ok=True, value=action.channel_id)

    with pytest.raises(ValueError, match="Send performed twice"):
        table.performs(Send)(Owner.send)

    @dataclass(frozen=True, slots=True, kw_only=True)
    class LoudSend(Send):
        pass

    fields = {"platform": "console", "space_id": "s", "channel_id": "c", "text": Text.of("hi")}
    assert (await table.perform(Owner(), Send(**fields))).value == "c"  # type: ignore[arg-type]
    with pytest.raises(UnsupportedAction):
        await table.perform(Owner(), LoudSend(**fields))  # type: ignore[arg-type]
