"""Joins and leaves as Telegram reports them: a `chat_member` update (to administrator
bots only) and a service message (to every bot), each change counted once; who
invited a member, from the invite link or from who added them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tg_core import (
    BAKERY,
    NOA,
    NOW,
    TOM,
    Core,
    invite_link,
    joined_message,
    left_message,
    member_update,
    message,
    private_chat,
)
from tg_fakeapi import BOT_USER, TOKEN, FakeBotAPI
from tg_harness import Harness

from adapters.telegram.adapter import TelegramAdapter
from bot.actions import ApproveJoinRequest
from bot.app import App
from bot.clock import FakeClock
from bot.config import load_config
from bot.events import JoinRequested, MemberJoined, MemberLeft

DANA: dict[str, Any] = {"id": 222, "is_bot": False, "first_name": "Dana", "last_name": "Levi"}
ELI: dict[str, Any] = {"id": 333, "is_bot": False, "first_name": "Eli"}
LATER = NOW + timedelta(minutes=1)


def _joins(events: list[Any]) -> list[MemberJoined]:
    return [e for e in events if isinstance(e, MemberJoined)]


# --- what the core receives ----------------------------------------------------------


async def test_a_join_seen_only_as_a_service_message_reaches_the_core(tg: Harness) -> None:
    """The bot is no administrator: Telegram sends it no chat_member update at all."""
    [event] = await tg.feed(joined_message(TOM))
    assert isinstance(event, MemberJoined)
    assert event.space_id == str(BAKERY)
    assert event.actor is not None and event.actor.user_id == "444"
    assert event.actor.display_name == "Tom"
    assert event.at == NOW
    assert (event.invite_code, event.inviter_user_id) == (None, None)  # came in by themselves


async def test_members_added_by_someone_were_invited_by_them(tg: Harness) -> None:
    events = await tg.feed(joined_message(DANA, ELI, by=NOA))
    assert [(e.actor.user_id, e.inviter_user_id, e.inviter_name) for e in _joins(events)] == [
        ("222", "111", "Noa"),
        ("333", "111", "Noa"),
    ]  # type: ignore[union-attr]


async def test_the_bot_joining_is_no_member_join(tg: Harness) -> None:
    assert await tg.feed(joined_message(BOT_USER, by=NOA)) == []
    assert await tg.feed(left_message(BOT_USER, by=NOA)) == []


@pytest.mark.parametrize("update_first", [True, False])
async def test_a_join_reported_both_ways_reaches_the_core_once(
    tg: Harness, update_first: bool
) -> None:
    update = member_update(ELI, "left", "member", link=invite_link(NOA))
    reports = [update, joined_message(ELI)] if update_first else [joined_message(ELI), update]
    events = [e for r in reports for e in await tg.feed(r)]
    assert len(_joins(events)) == 1


async def test_an_administrator_bot_takes_the_update_which_names_the_link(tg: Harness) -> None:
    """Where the bot administers the group, the chat_member update will come: the
    service message (which says nothing of the link) is passed over, whichever is first."""
    tg.api.admins[BAKERY] = [NOA, BOT_USER]
    assert await tg.feed(joined_message(ELI)) == []
    [joined] = await tg.feed(member_update(ELI, "left", "member", link=invite_link(NOA)))
    assert isinstance(joined, MemberJoined)
    assert (joined.invite_code, joined.inviter_name) == ("Nm5xYz0aBcDeFg", "Noa")
    assert await tg.feed(left_message(ELI)) == []
    [left] = await tg.feed(member_update(ELI, "member", "left", at=LATER))
    assert isinstance(left, MemberLeft)


@pytest.mark.parametrize("update_first", [True, False])
async def test_a_leave_reported_both_ways_reaches_the_core_once(
    tg: Harness, update_first: bool
) -> None:
    await tg.feed(joined_message(ELI))
    update = member_update(ELI, "member", "left", at=LATER)
    gone = left_message(ELI, at=LATER)
    events = [
        e for r in ([update, gone] if update_first else [gone, update]) for e in await tg.feed(r)
    ]
    assert [type(e) for e in events] == [MemberLeft]


async def test_a_member_removed_by_the_bot_is_reported_so(tg: Harness) -> None:
    await tg.feed(joined_message(ELI))
    [left] = await tg.feed(left_message(ELI, by=BOT_USER, at=LATER))
    assert isinstance(left, MemberLeft) and left.removed_by_bot


async def test_leaving_and_coming_back_are_each_reported(tg: Harness) -> None:
    events = []
    for at in (NOW, NOW + timedelta(seconds=20)):
        events += await tg.feed(joined_message(ELI, at=at))
        events += await tg.feed(left_message(ELI, at=at + timedelta(seconds=5)))
    assert [type(e) for e in events] == [MemberJoined, MemberLeft] * 2
    # A late second report of the first join (older than the leave seen since): old news.
    assert await tg.feed(member_update(ELI, "left", "member", at=NOW)) == []


# --- who invited them ---------------------------------------------------------------


async def test_a_join_through_a_link_names_its_creator(tg: Harness) -> None:
    [joined] = await tg.feed(member_update(ELI, "left", "member", link=invite_link(DANA)))
    assert isinstance(joined, MemberJoined)
    assert (joined.inviter_user_id, joined.inviter_name) == ("222", "Dana Levi")
    assert (joined.invite_code, joined.confidence) == ("Nm5xYz0aBcDeFg", "exact")


async def test_a_masked_link_still_names_its_creator(tg: Harness) -> None:
    """Telegram hides the second half of another administrator's link, not its creator."""
    [joined] = await tg.feed("chat_member_join_other_admins_link.json")
    assert isinstance(joined, MemberJoined)
    assert (joined.invite_code, joined.inviter_user_id, joined.inviter_name) == (None, "111", "Noa")


async def test_a_link_the_bot_made_names_no_inviter(tg: Harness) -> None:
    """The bot makes members' personal links: whose a link is, its code tells the core."""
    [joined] = await tg.feed("chat_member_join_via_invite.json")
    assert isinstance(joined, MemberJoined)
    assert joined.invite_code == "Fk0001aZbQ9xYz" and joined.inviter_user_id is None


async def test_an_approved_join_request_names_the_creator_of_its_link(tg: Harness) -> None:
    request = {
        "update_id": 940000001,
        "chat_join_request": {
            "chat": {"id": BAKERY, "title": "Bakery Friends", "type": "supergroup"},
            "from": ELI,
            "user_chat_id": 333,
            "date": int(NOW.timestamp()),
            "invite_link": invite_link(DANA, creates_join_request=True),
        },
    }
    [asked] = await tg.feed(request)
    assert isinstance(asked, JoinRequested) and asked.invite_code == "Nm5xYz0aBcDeFg"
    await tg.adapter.perform(
        ApproveJoinRequest(platform="telegram", space_id=str(BAKERY), user_id="333")
    )
    # Approved by the bot: the update names neither the link nor Dana; the request did.
    approved = member_update(ELI, "left", "member", by=BOT_USER, via_join_request=True)
    [joined] = await tg.feed(approved)
    assert isinstance(joined, MemberJoined)
    assert (joined.invite_code, joined.inviter_name) == ("Nm5xYz0aBcDeFg", "Dana Levi")


async def test_the_administrator_who_approves_a_request_did_not_invite(tg: Harness) -> None:
    approved = member_update(ELI, "left", "member", by=NOA, via_join_request=True)
    [joined] = await tg.feed(approved)
    assert isinstance(joined, MemberJoined) and joined.inviter_user_id is None
    added = member_update(DANA, "left", "member", by=NOA)  # Noa added Dana herself
    [joined] = await tg.feed(added)
    assert isinstance(joined, MemberJoined) and joined.inviter_name == "Noa"


# --- what members and owners see ----------------------------------------------------


async def _stats(core: Core) -> str:
    """Noa's /stats, privately: the community's figures."""
    await core.feed(message(NOA, private_chat(NOA), "/stats"))
    return core.texts_to(111)[-1]


async def test_a_join_seen_only_as_a_service_message_is_welcomed_and_counted(
    core: Core,
) -> None:
    await core.setup_group()
    await core.feed(joined_message(TOM))
    welcome = core.texts_to(BAKERY)[-1]
    assert 'href="tg://user?id=444"' in welcome and "Bakery Friends" in welcome
    assert any("I accept" in str(c.params.get("reply_markup")) for c in core.sent_to(444))
    assert "Joined: 1 / 1" in await _stats(core)


@pytest.mark.parametrize("update_first", [True, False])
async def test_a_join_reported_both_ways_is_welcomed_and_counted_once(
    core: Core, update_first: bool
) -> None:
    await core.setup_group()
    update = member_update(TOM, "left", "member")
    for report in [update, joined_message(TOM)] if update_first else [joined_message(TOM), update]:
        await core.feed(report)
    welcomes = [t for t in core.texts_to(BAKERY) if 'href="tg://user?id=444"' in t]
    assert len(welcomes) == 1
    assert len(core.sent_to(444)) == 1  # one private welcome
    await core.feed(left_message(TOM, at=LATER))
    await core.feed(member_update(TOM, "member", "left", at=LATER))
    stats = await _stats(core)
    assert "Joined: 1 / 1" in stats and "Left: 1 / 1" in stats


async def test_a_join_reported_again_after_a_restart_is_counted_once(
    core: Core, db_url: str
) -> None:
    """The service message is handled, the process restarts, and the chat_member
    update for the same join arrives: the join is counted once, welcomed once."""
    await core.setup_group()
    await core.feed(joined_message(TOM))
    await core.app.stop()

    api = FakeBotAPI()
    api.admins[BAKERY] = [NOA]
    config = load_config(None, env={"KEHILA_DATABASE_URL": db_url, "KEHILA_TELEGRAM_TOKEN": TOKEN})
    adapter = TelegramAdapter(config, request=api, get_updates_request=api)
    app = App(config, clock=FakeClock(NOW + timedelta(seconds=30)), adapters=[adapter])
    await app.start(migrate=False)
    try:
        restarted = Core(app, adapter, api)
        await restarted.feed(member_update(TOM, "left", "member"))
        assert restarted.texts_to(BAKERY) == [] and restarted.sent_to(444) == []
        assert "Joined: 1 / 1" in await _stats(restarted)
    finally:
        await app.stop()


async def test_the_welcome_names_who_invited_through_their_link(core: Core) -> None:
    core.api.admins[BAKERY].append(BOT_USER)  # so Telegram sends chat_member updates
    await core.setup_group()
    await core.feed(
        message(
            NOA,
            private_chat(NOA),
            "/onboarding set welcome Welcome {member}, invited by {inviter}!",
        )
    )
    await core.feed(
        message(DANA, {"id": BAKERY, "title": "Bakery Friends", "type": "supergroup"}, "Hi!")
    )
    await core.feed(member_update(TOM, "left", "member", link=invite_link(DANA)))
    tom = '<a href="tg://user?id=444">Tom</a>'
    assert core.texts_to(BAKERY)[-1] == f"Welcome {tom}, invited by Dana Levi!"
    # Added by Noa: she invited him.
    await core.feed(member_update(ELI, "left", "member", by=NOA))
    eli = '<a href="tg://user?id=333">Eli</a>'
    assert core.texts_to(BAKERY)[-1] == f"Welcome {eli}, invited by Noa!"
