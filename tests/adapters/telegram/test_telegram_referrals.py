"""Referrals through python-telegram-bot under the real core: a member's named link
made once, an administrator's link crediting its creator, join requests approved by
the bot or held for the moderators, and the missing admin right named to the owner."""

from __future__ import annotations

from typing import Any

from tg_core import (
    BAKERY,
    GROUP_CHAT,
    NOA,
    TOM,
    Core,
    invite_link,
    member_update,
    message,
    press,
    private_chat,
    stamp,
)
from tg_fakeapi import BOT_USER

from storage.referrals import Referral, ReferralsRepo
from storage.unit_of_work import UnitOfWork

DANA: dict[str, Any] = {"id": 222, "is_bot": False, "first_name": "Dana", "last_name": "Levi"}
ELI: dict[str, Any] = {"id": 333, "is_bot": False, "first_name": "Eli"}
LONG = {
    "id": 555,
    "is_bot": False,
    "first_name": "Bartholomew Alexander",
    "last_name": "Montgomery-Fitzwilliam",
}


async def _referral(core: Core, user_id: int) -> Referral:
    community = core.app.directory.community_of("telegram", str(BAKERY))
    assert community is not None
    member = core.app.directory.member(community.id, "telegram", str(user_id))
    assert member is not None
    async with UnitOfWork(core.app.services.db) as uow:
        found = await uow.repo(ReferralsRepo).of_member(community.id, member.id)
    assert found is not None
    return found


def _member_id(core: Core, user_id: int) -> int:
    community = core.app.directory.community_of("telegram", str(BAKERY))
    assert community is not None
    member = core.app.directory.member(community.id, "telegram", str(user_id))
    assert member is not None
    return member.id


async def _ready(core: Core) -> None:
    core.api.admins[BAKERY].append(BOT_USER)  # so Telegram sends chat_member updates
    await core.setup_group()
    await core.feed(message(DANA, GROUP_CHAT, "Hi all"))


async def test_invite_makes_a_named_link_once_and_a_join_through_it_credits_the_member(
    core: Core,
) -> None:
    await _ready(core)
    await core.feed(message(LONG, GROUP_CHAT, "hello"))
    await core.feed(message(LONG, GROUP_CHAT, "/invite"))
    [made] = core.api.of("createChatInviteLink")
    assert "creates_join_request" not in made.params  # approval is not on
    # Named for the member, within Telegram's 32 characters.
    assert made.params["name"] == "Bartholomew Alexander Montgomery-Fitzwilliam"[:32]
    answer = core.texts_to(555)[-1]
    assert ">https://t.me/+Fk0001aZbQ9xYz</a>" in answer
    assert (
        "someone who joins through it counts for you once they have stayed and taken part."
        in answer
    )
    await core.feed(message(LONG, private_chat(LONG), "/invite"))
    assert len(core.api.of("createChatInviteLink")) == 1  # reused
    assert "https://t.me/+Fk0001aZbQ9xYz" in core.texts_to(555)[-1]
    # Eli joins through it: the link is the bot's, its code says whose it is.
    await core.feed(
        message(NOA, private_chat(NOA), "/onboarding set welcome Hi {member}, from {inviter}!")
    )
    link = invite_link(BOT_USER, url="https://t.me/+Fk0001aZbQ9xYz")
    await core.feed(member_update(ELI, "left", "member", link=link))
    eli = '<a href="tg://user?id=333">Eli</a>'
    assert (
        core.texts_to(BAKERY)[-1] == f"Hi {eli}, from Bartholomew Alexander Montgomery-Fitzwilliam!"
    )
    referral = await _referral(core, 333)
    assert (referral.code, referral.confidence) == ("Fk0001aZbQ9xYz", "exact")
    assert referral.inviter_id == _member_id(core, 555)


async def test_an_administrators_masked_link_credits_its_creator(core: Core) -> None:
    await _ready(core)
    masked = invite_link(DANA, url="https://t.me/+Nm5x…")
    await core.feed(member_update(TOM, "left", "member", link=masked))
    referral = await _referral(core, 444)
    assert (referral.code, referral.confidence) == (None, "creator")
    assert referral.inviter_id == _member_id(core, 222)


def _join_request(user: dict[str, Any]) -> dict[str, Any]:
    return {
        "update_id": 940000101 + user["id"],
        "chat_join_request": {
            "chat": GROUP_CHAT,
            "from": user,
            "user_chat_id": user["id"],
            "date": stamp(),
            "invite_link": invite_link(DANA, creates_join_request=True),
        },
    }


async def test_a_join_request_is_approved_by_the_bot(core: Core) -> None:
    await _ready(core)
    await core.feed(_join_request(ELI))
    [approved] = core.api.of("approveChatJoinRequest")
    assert (approved.params["chat_id"], approved.params["user_id"]) == (BAKERY, 333)


async def test_a_held_join_request_waits_for_a_moderators_button(core: Core) -> None:
    await _ready(core)
    await core.feed(message(NOA, private_chat(NOA), "/config set referrals.join_requests hold"))
    # Personal links made now ask to join.
    await core.feed(message(DANA, GROUP_CHAT, "/invite"))
    [made] = core.api.of("createChatInviteLink")
    assert made.params["creates_join_request"] is True
    await core.feed(_join_request(ELI))
    await core.app.outbox.drain()
    assert core.api.of("approveChatJoinRequest") == []
    [asked] = [c for c in core.sent_to(111) if "asks to join" in c.params["text"]]
    assert asked.params["text"] == "Eli asks to join Bakery Friends."
    await core.feed(press(NOA, asked, "Let them in"))
    [approved] = core.api.of("approveChatJoinRequest")
    assert approved.params["user_id"] == 333


async def test_without_the_right_to_invite_the_owner_is_told_which(core: Core) -> None:
    await _ready(core)
    core.api.fail_next(
        "createChatInviteLink", 400, "Bad Request: not enough rights to manage chat invite links"
    )
    await core.feed(message(DANA, GROUP_CHAT, "/invite"))
    assert "may not create invite links here yet" in core.texts_to(222)[-1]
    await core.app.outbox.drain()
    assert any("right to invite users via link" in t for t in core.texts_to(111))
