"""The adapter under the real core: App, dispatcher, features, SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dc_fakeapi import TOKEN, FakeDiscord
from dc_harness import DANA, GUILD, Harness, payload

from adapters.discord.adapter import DiscordAdapter
from bot.app import App
from bot.config import load_config
from bot.features.engagement.chart import lays_out_rtl

GLOBAL = "/applications/{application_id}/commands"
FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
MESSAGES = "/channels/{channel_id}/messages"


@pytest.fixture
async def core(api: FakeDiscord, tmp_path: Path) -> AsyncIterator[tuple[App, Harness]]:
    config = load_config(
        None,
        env={
            "KEHILA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/kehila.db",
            "KEHILA_DISCORD_TOKEN": TOKEN,
        },
    )
    harness = Harness(api, config)
    harness.adapter = DiscordAdapter(config, gateway=False)
    app = App(config, adapters=[harness.adapter])
    await app.start()
    try:
        yield app, harness
    finally:
        await app.stop()


def command(name: str, options: list[dict[str, object]], *, by: dict[str, object]) -> dict:
    data = payload("interaction_command")
    data["data"] = {"id": "700000000000000009", "name": name, "type": 1, "options": options}
    data["member"] = {**data["member"], **by}
    return data


async def test_the_owner_sets_up_the_server_and_a_member_cannot_configure_it(
    core: tuple[App, Harness],
) -> None:
    app, bot = core
    published = {c["name"]: c for c in bot.api.find("PUT", GLOBAL)[-1].json}
    assert "setup" in published and published["config"]["default_member_permissions"] == "32"

    bot.gateway("GUILD_CREATE", payload("guild_create"))
    await bot.settle()
    setup = command("setup", [{"type": 3, "name": "name", "value": "Café Friends"}], by={})
    bot.gateway("INTERACTION_CREATE", setup)
    await bot.settle()
    assert app.directory.community_of("discord", GUILD) is not None
    answered = bot.api.find("POST", FOLLOWUP) + bot.api.find("POST", MESSAGES)
    assert any((c.content or "").startswith("**Café Friends** is set up") for c in answered)

    # Discord would hide /config from Dana; if she calls it anyway the core says no.
    dana = {
        "user": {**setup["member"]["user"], "id": DANA, "username": "dana.levi"},
        "permissions": "2222085186636353",  # no Manage Server
    }
    before = len(bot.api.calls)
    show = command("config", [{"type": 1, "name": "show", "options": []}], by=dana)
    show["id"] = "600000000000000077"
    bot.gateway("INTERACTION_CREATE", show)
    await bot.settle()
    replies = [c for c in bot.api.calls[before:] if c.route == FOLLOWUP]
    assert len(replies) == 1 and replies[0].json["flags"] & 64  # private to her
    assert replies[0].content == "Only owners can use /config. Nothing was changed."


async def test_the_digest_comes_with_its_chart_attached_as_a_png(
    core: tuple[App, Harness],
) -> None:
    """`/digest now`: the owner's private answer carries the digest and the chart as a
    .png file on the same message, which Discord shows inline as an image."""
    _app, bot = core
    # matplotlib's first import and font load, outside the harness's wait for handlers.
    lays_out_rtl()
    bot.gateway("GUILD_CREATE", payload("guild_create"))
    await bot.settle()
    bot.gateway("INTERACTION_CREATE", command("setup", [{"type": 3, "name": "name", "value": "Café Friends"}], by={}))  # fmt: skip
    await bot.settle()
    before = len(bot.api.calls)
    digest = command("digest", [{"type": 1, "name": "now", "options": []}], by={})
    digest["id"] = "600000000000000078"
    bot.gateway("INTERACTION_CREATE", digest)
    await bot.settle()
    [answer] = [c for c in bot.api.calls[before:] if c.route == FOLLOWUP]
    assert answer.json["flags"] & 64  # only the owner sees it
    assert (answer.content or "").startswith("📊 **Weekly digest of Café Friends**")
    [chart] = answer.files
    assert chart.startswith("digest-") and chart.endswith(".png")
