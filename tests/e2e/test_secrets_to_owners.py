"""What a platform says about a failure can reach an owner (the role notice quotes it);
a secret in it never does."""

from __future__ import annotations

import logging

import pytest

from adapters.console.community import ConsoleCommunity
from bot.actions import Action, ActionResult, AssignRole, SendDirect

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


async def test_a_platform_error_quoted_to_the_owners_holds_no_token(
    console: ConsoleCommunity, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = console.adapter
    perform = adapter.perform

    async def refusing_roles(action: Action) -> ActionResult:
        if isinstance(action, AssignRole):
            # A platform (or a proxy in front of it) that quotes the request URL.
            return ActionResult.failed(
                "forbidden", f"{action.role} (POST /bot{TOKEN}/promoteChatMember: 403)"
            )
        return await perform(action)

    monkeypatch.setattr(adapter, "perform", refusing_roles)
    await console.run("/config set onboarding.member_role Members\n/onboarding gate on")
    console.clear()
    with caplog.at_level(logging.WARNING):
        await console.run("/join dana\n/as dana\n/click 1")

    [notice] = [
        a for a in console.actions(SendDirect) if isinstance(a, SendDirect) and a.user_id == "owner"
    ]
    told = notice.text.plain()
    assert "I could not give a member the role Members" in told
    assert "/bot***/promoteChatMember" in told
    assert TOKEN not in told and TOKEN not in caplog.text
