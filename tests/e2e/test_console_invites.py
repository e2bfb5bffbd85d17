"""On the console, a join through an invite reports the code the invite was made with."""

from __future__ import annotations

from adapters.console.community import ConsoleCommunity
from bot.actions import CreateInvite
from bot.config import Config
from bot.context import Context
from bot.events import MemberJoined
from bot.feature import Feature
from bot.features import all_features
from tests.conftest import START


async def test_the_code_of_an_invite_made_is_the_code_of_a_join_through_it(config: Config) -> None:
    joins: list[str | None] = []

    async def no_merge(ctx: Context, from_id: int, into_id: int) -> None:

        pass

    async def nothing(ctx: Context, member_id: int) -> None:
        return None

    spy = Feature("spy", delete_member_data=nothing, merge_member_data=no_merge)

    @spy.on(MemberJoined)
    async def joined(ctx: Context, event: MemberJoined) -> None:
        joins.append(event.invite_code)

    console = ConsoleCommunity(config, start=START, features=[spy, *all_features()])
    await console.start(migrate=False)
    try:
        await console.run("/setup Test Community")
        made = await console.app.services.delivery.perform(
            CreateInvite(platform="console", space_id="console", channel_id=None, name="Dana")
        )
        assert made.ok and made.invite_code and made.value == f"console://join/{made.invite_code}"
        # A newcomer pastes the link; another types the code.
        await console.run(f"/join noa invite={made.value}\n/join avi invite={made.invite_code}")
        assert joins == [made.invite_code, made.invite_code]
    finally:
        await console.stop()
