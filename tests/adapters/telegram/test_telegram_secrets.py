"""Telegram's own error text, as PTB hands it over, never carries the token further."""

from __future__ import annotations

from tg_fakeapi import TOKEN
from tg_harness import GROUP, Harness

from bot.actions import Send
from bot.markup import Text


async def test_an_error_that_quotes_the_token_is_reported_without_it(tg: Harness) -> None:
    # A self-hosted Bot API server (or a proxy) that echoes the request path.
    tg.api.fail_next("sendMessage", 400, f"Bad Request: /bot{TOKEN}/sendMessage: chat not found")
    result = await tg.adapter.perform(
        Send(platform="telegram", space_id=str(GROUP), channel_id=str(GROUP), text=Text.of("hi"))
    )
    assert not result.ok and result.error == "not_found"
    # (PTB rewrites the description's case; the token is gone either way.)
    assert "/bot***/" in result.detail
    assert TOKEN.split(":")[1].lower() not in result.detail.lower()
