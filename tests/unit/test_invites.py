"""Invite codes have one normal form, whatever side of an adapter they come from."""

from __future__ import annotations

from bot.invites import invite_code


def test_discord_links_and_codes() -> None:
    for given in (
        "AbCd123",
        "https://discord.gg/AbCd123",
        "discord.gg/AbCd123",
        "https://discord.com/invite/AbCd123",
        "https://discordapp.com/invite/AbCd123/",
        "https://discord.gg/AbCd123?event=42",
        "  https://discord.gg/AbCd123\n",
    ):
        assert invite_code(given) == "AbCd123", given
    assert invite_code("abcd123") != invite_code("AbCd123")  # codes are case-sensitive


def test_telegram_links_old_and_new() -> None:
    for given in (
        "https://t.me/+Fk0001aZbQ9xYz",
        "t.me/+Fk0001aZbQ9xYz",
        "https://t.me/joinchat/Fk0001aZbQ9xYz",
        "https://telegram.me/+Fk0001aZbQ9xYz",
        "Fk0001aZbQ9xYz",
    ):
        assert invite_code(given) == "Fk0001aZbQ9xYz", given


def test_console_links() -> None:
    assert invite_code("console://join/inv3") == invite_code("inv3") == "inv3"
