"""Starting on Discord: clear refusals, intents stated, the token kept secret."""

from __future__ import annotations

import logging

import pytest
from dc_fakeapi import FLAGS_NO_MESSAGE_CONTENT, TOKEN, FakeDiscord
from dc_harness import CoreDouble, Harness, config

from adapters.discord import create_adapter
from adapters.discord.adapter import DiscordAdapter, DiscordStartError


async def test_without_the_members_intent_the_bot_refuses_to_start(api: FakeDiscord) -> None:
    api.app_flags = 0
    bot = Harness(api)
    with pytest.raises(DiscordStartError, match="Server Members Intent"):
        await bot.open()
    await bot.close()


async def test_without_a_token_the_bot_says_which_variable_to_set() -> None:
    adapter = DiscordAdapter(
        config().model_copy(update={"discord": config().discord.model_copy(update={"token": None})})
    )
    with pytest.raises(DiscordStartError, match="KEHILA_DISCORD_TOKEN"):
        await adapter.start(CoreDouble().sink)
    await adapter.stop()


async def test_the_intents_asked_for(api: FakeDiscord) -> None:
    bot = await Harness(api).open()
    intents = bot.adapter.client.intents
    assert intents.members and intents.invites and intents.guild_scheduled_events
    assert intents.message_content and intents.guild_reactions and intents.dm_messages
    assert not intents.presences and not intents.typing and not intents.voice_states
    assert bot.adapter.capabilities.message_content is True
    assert bot.adapter.capabilities.max_text_length == 2000
    await bot.close()


async def test_missing_message_content_is_logged_once_and_the_token_never(
    api: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    api.app_flags = FLAGS_NO_MESSAGE_CONTENT
    caplog.set_level(logging.DEBUG)
    bot = await Harness(api).open()
    warnings = [r for r in caplog.records if "Message Content Intent" in r.getMessage()]
    assert len(warnings) == 1
    assert TOKEN not in caplog.text
    await bot.close()


def test_sharding_comes_from_the_config() -> None:
    adapter = create_adapter(config(shard_count=4, shard_ids=[2, 3]))
    assert isinstance(adapter, DiscordAdapter)
    assert adapter.client.shard_count == 4 and adapter.client.shard_ids == [2, 3]
