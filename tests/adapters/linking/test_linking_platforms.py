"""Linking a Discord and a Telegram account of one person, through discord.py and
python-telegram-bot: one App with both adapters, a Discord server and a Telegram
group that are one community (conftest.py, both.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from both import DANA_DC, DANA_TG, TOM_TG, Both, _ids
from tg_core import message, press, stamp
from tg_fakeapi import BOT_USER

from storage.unit_of_work import UnitOfWork


async def _dana_on_both(both: Both) -> None:
    await both.dc_join(DANA_DC, "Dana")
    await both.tg_join(DANA_TG)


async def _accounts(both: Both, member_id: int) -> list[tuple[str, str]]:
    async with UnitOfWork(both.app.services.db) as uow:
        return sorted((i.platform, i.user_id) for i in await uow.members.identities(member_id))


async def test_a_code_from_discord_used_on_telegram_makes_one_member(both: Both) -> None:
    await _dana_on_both(both)
    dc, tg = both.member("discord", DANA_DC), both.member("telegram", DANA_TG["id"])
    assert dc is not None and tg is not None and dc is not tg

    await both.dc_private(DANA_DC, "Dana", "/link")
    reply = both.dc_replies()[-1]
    assert reply.startswith("Your code: **") and "It works once, for 10 minutes" in reply
    await both.tg_private(DANA_TG, f"/link {both.dc_code()}")

    assert both.tg_texts(DANA_TG["id"])[-1].startswith(
        "Linked: your accounts (Discord, Telegram) are one member of Café Friends now"
    )
    assert both.member("telegram", DANA_TG["id"]) is dc
    assert tg.id not in both.app.directory.by_id
    assert await _accounts(both, dc.id) == [("discord", DANA_DC), ("telegram", "555")]


async def test_a_code_from_telegram_used_on_discord_and_a_third_account(both: Both) -> None:
    await _dana_on_both(both)
    tg = both.member("telegram", DANA_TG["id"])
    assert tg is not None
    await both.tg_private(DANA_TG, "/link")
    assert "Keep it to yourself" in both.tg_texts(DANA_TG["id"])[-1]
    await both.dc_private(DANA_DC, "Dana", f"/link {both.tg_code(DANA_TG)}")
    assert both.dc_replies()[-1].startswith("Linked: your accounts (Discord, Telegram)")
    assert both.member("discord", DANA_DC) is tg

    # Any number of accounts: her second Discord account, from a code on the first.
    second = "200000000000000077"
    await both.dc_join(second, "Dana")
    await both.dc_private(DANA_DC, "Dana", "/link")
    await both.dc_private(second, "Dana", f"/link {both.dc_code()}")
    assert both.member("discord", second) is tg
    assert len(await _accounts(both, tg.id)) == 3


async def test_wrong_expired_used_and_other_community_codes_change_nothing(
    both: Both,
) -> None:
    await _dana_on_both(both)
    await both.tg_join(TOM_TG)
    dc, tg = both.member("discord", DANA_DC), both.member("telegram", DANA_TG["id"])
    tom = both.member("telegram", TOM_TG["id"])
    members = set(both.app.directory.by_id)

    await both.tg_private(DANA_TG, "/link WXYZ-2345")
    assert both.tg_texts(DANA_TG["id"])[-1].startswith("That code is not right.")

    await both.dc_private(DANA_DC, "Dana", "/link")
    code = both.dc_code()
    await both.advance(minutes=11)  # the fake clock: valid for ten
    await both.tg_private(DANA_TG, f"/link {code.lower().replace('-', '')}")
    assert both.tg_texts(DANA_TG["id"])[-1].startswith(
        "That code has expired (a code works for 10 minutes)."
    )
    assert set(both.app.directory.by_id) == members

    # Used: once by Dana, then by Tom, who saw it over her shoulder.
    await both.dc_private(DANA_DC, "Dana", "/link")
    code = both.dc_code()
    await both.tg_private(DANA_TG, f"/link {code}")
    await both.tg_private(TOM_TG, f"/link {code}")
    assert both.tg_texts(TOM_TG["id"])[-1].startswith("That code has been used already.")
    assert both.member("telegram", TOM_TG["id"]) is tom and tom is not dc
    assert both.member("telegram", DANA_TG["id"]) is dc and tg is not dc

    # Another community's code: Eli runs a group of his own.
    eli: dict[str, Any] = {"id": 777, "is_bot": False, "first_name": "Eli", "language_code": "en"}
    other = -1001112223334
    other_chat = {"id": other, "title": "Eli's Club", "type": "supergroup"}
    both.tg_api.admins[other] = [eli]
    await both.tg_feed(
        {
            "update_id": next(_ids),
            "my_chat_member": {
                "chat": other_chat,
                "from": eli,
                "date": stamp(both.now()),
                "old_chat_member": {"user": BOT_USER, "status": "left"},
                "new_chat_member": {"user": BOT_USER, "status": "member"},
            },
        }
    )
    await both.tg_feed(message(eli, other_chat, "/setup Eli's Club", at=both.now()))
    clubs = both.app.directory.community_of("telegram", str(other))
    assert clubs is not None and clubs is not both.community
    await both.tg_private(eli, "/link")
    assert "Eli's Club" in both.tg_texts(eli["id"])[-1]
    await both.dc_private(DANA_DC, "Dana", f"/link {both.tg_code(eli)}")
    assert both.dc_replies()[-1].startswith("That code is for another community.")
    assert both.member("discord", DANA_DC) is dc
    assert both.app.directory.member(clubs.id, "discord", DANA_DC) is None


async def test_two_presses_of_one_code_one_wins(both: Both) -> None:
    await _dana_on_both(both)
    await both.tg_join(TOM_TG)
    await both.dc_private(DANA_DC, "Dana", "/link")
    code = both.dc_code()
    await asyncio.gather(
        both.tg_private(DANA_TG, f"/link {code}"), both.tg_private(TOM_TG, f"/link {code}")
    )
    answers = [both.tg_texts(DANA_TG["id"])[-1], both.tg_texts(TOM_TG["id"])[-1]]
    assert sorted(a.split(":")[0].split(" ")[0] for a in answers) == ["Linked", "That"]
    dc = both.member("discord", DANA_DC)
    assert dc is not None and len(await _accounts(both, dc.id)) == 2


async def _stats(both: Both) -> str:
    await both.dc_command("stats", [])
    return both.dc_replies()[-1]


async def _digest(both: Both) -> str:
    await both.dc_command("digest", [{"type": 1, "name": "now", "options": []}])
    return next(r for r in reversed(both.dc_replies()) if "Weekly digest" in r)


async def test_stats_and_the_digest_count_one_person_after_a_link(both: Both) -> None:
    await _dana_on_both(both)
    await both.dc_say(DANA_DC, "Dana", "hello from Discord")
    await both.tg_say(DANA_TG, "and hello from Telegram")
    await both.tg_say(DANA_TG, "twice")
    before = await _stats(both)
    assert "Active members: 2 / 2" in before and "Messages: 3 / 3" in before
    assert "Joined: 2 / 2" in before
    await both.advance(days=7)  # the week with their messages is the last full one
    assert "🔥 Active: 2 this week" in await _digest(both)

    await both.tg_private(DANA_TG, "/link")
    await both.dc_private(DANA_DC, "Dana", f"/link {both.tg_code(DANA_TG)}")
    digest = await _digest(both)
    assert "🔥 Active: 1 this week" in digest and "Messages 3" in digest
    after = await _stats(both)  # the last 28 days
    assert "Active members: 0 / 1" in after and "Messages: 0 / 3" in after
    assert "Joined: 0 / 1" in after  # one person joined, on two platforms


async def test_unlink_splits_the_account_off_and_keeps_the_past(both: Both) -> None:
    await _dana_on_both(both)
    await both.tg_say(DANA_TG, "before")
    await both.dc_private(DANA_DC, "Dana", "/link")
    await both.tg_private(DANA_TG, f"/link {both.dc_code()}")
    dana = both.member("discord", DANA_DC)
    assert dana is not None

    await both.tg_private(DANA_TG, "/unlink")
    assert both.tg_texts(DANA_TG["id"])[-1] == (
        "Done: this Telegram account is a member of its own in Café Friends from now on. "
        "What you did before stays with your other account (Discord); what this one does "
        "from now on counts for it alone. To link them again: /link."
    )
    split = both.member("telegram", DANA_TG["id"])
    assert split is not None and split is not dana
    assert both.member("discord", DANA_DC) is dana
    assert await _accounts(both, dana.id) == [("discord", DANA_DC)]
    await both.tg_say(DANA_TG, "after")
    await both.dc_private(DANA_DC, "Dana", "/unlink")
    assert both.dc_replies()[-1] == "This account is not linked to another one."
    async with UnitOfWork(both.app.services.db) as uow:
        from bot.features.engagement import engagement

        await engagement(both.app.services).flush()
        day = both.community.local_day(both.app.services.clock.now())
        from datetime import timedelta

        week = (day - timedelta(days=7), day + timedelta(days=1))
        assert (await uow.activity.member_totals(dana.id, *week))["messages"] == 1
        assert (await uow.activity.member_totals(split.id, *week))["messages"] == 1


async def test_forgetme_from_one_account_deletes_the_person_and_both_accounts(
    both: Both,
) -> None:
    await _dana_on_both(both)
    await both.dc_say(DANA_DC, "Dana", "hi")
    await both.tg_private(DANA_TG, "/link")
    await both.dc_private(DANA_DC, "Dana", f"/link {both.tg_code(DANA_TG)}")
    dana = both.member("discord", DANA_DC)
    assert dana is not None

    # /mydata, from either account, lists both.
    await both.tg_private(DANA_TG, "/mydata")
    [document] = [c for c in both.tg_api.of("sendDocument") if c.params["chat_id"] == 555]
    assert document is not None

    await both.tg_private(DANA_TG, "/forgetme")
    [confirm] = [
        c
        for c in both.tg_api.of("sendMessage")
        if c.params["chat_id"] == 555 and "reply_markup" in c.params
    ][-1:]
    await both.tg_feed(press(DANA_TG, confirm, "Yes, delete my data"))
    assert both.tg_texts(555)[-1].startswith("Done: everything stored about you here is deleted.")
    assert both.member("discord", DANA_DC) is None
    assert both.member("telegram", 555) is None
    async with UnitOfWork(both.app.services.db) as uow:
        assert await uow.members.get(dana.id) is None
        assert await uow.members.find(both.community.id, "discord", DANA_DC) is None
        assert await uow.members.find(both.community.id, "telegram", "555") is None


async def test_an_owner_links_two_accounts_and_the_member_is_told_where_they_can_read_it(
    both: Both,
) -> None:
    await _dana_on_both(both)

    async def members(*options: Any) -> str:
        await both.dc_command(
            "members", [{"type": 1, "name": options[0], "options": list(options[1:])}]
        )
        return both.dc_replies()[-1]

    def text(name: str, value: str) -> dict[str, Any]:
        return {"type": 3, "name": name, "value": value}

    assert await members("show", text("member", "Dana")) == (
        "- Dana: 1 account (Discord)\n- Dana: 1 account (Telegram)"
    )
    answer = await members("link", text("first", "Dana"), text("second", "Dana"))
    assert answer.startswith("Several members are called Dana. Name one with its platform")

    # Her Discord DMs are closed: the notice goes to her Telegram instead.
    both.discord.api.closed_dms.add(DANA_DC)
    answer = await members("link", text("first", "discord:Dana"), text("second", "telegram:Dana"))
    assert answer.startswith("Dana and Dana are one member now; they were told.")
    assert answer.endswith("Dana: 2 accounts (Discord, Telegram)")
    assert both.tg_texts(555)[-1].startswith(
        "An owner of Café Friends linked your accounts (Discord, Telegram)"
    )
    # Not posted in the server for all to read (Discord refused the DM: tried, then
    # Telegram took it).
    assert "An owner of" in both.dc_dms(DANA_DC)[-1]
    assert sum("An owner of" in t for t in both.dc_replies()) == 1
    assert await members("show", text("member", "Dana")) == "- Dana: 2 accounts (Discord, Telegram)"


async def test_a_private_message_goes_to_the_platform_used_last(both: Both) -> None:
    await _dana_on_both(both)
    await both.tg_private(DANA_TG, "/link")
    await both.dc_private(DANA_DC, "Dana", f"/link {both.tg_code(DANA_TG)}")
    dana = both.member("telegram", DANA_TG["id"])
    assert dana is not None and dana.platform == "discord"  # she used Discord last
    on_discord, on_telegram = len(both.dc_dms(DANA_DC)), len(both.tg_texts(555))
    # She never accepted the rules: onboarding's reminder, three days on, is private.
    await both.advance(days=4)
    assert len(both.dc_dms(DANA_DC)) == on_discord + 1
    assert len(both.tg_texts(555)) == on_telegram


async def test_an_account_linked_before_it_joins_is_not_welcomed_again(both: Both) -> None:
    await both.dc_join(DANA_DC, "Dana")
    assert any("Welcome to Café Friends" in t for t in both.dc_replies())
    await both.dc_private(DANA_DC, "Dana", "/link")
    # Her Telegram account has never been in the group: it becomes hers at once.
    await both.tg_private(DANA_TG, f"/link {both.dc_code()}")
    dana = both.member("discord", DANA_DC)
    assert dana is not None and both.member("telegram", 555) is dana
    welcomes = [t for t in both.tg_api.of("sendMessage") if "welcome" in t.params["text"].lower()]
    await both.tg_join(DANA_TG)
    assert [
        t for t in both.tg_api.of("sendMessage") if "welcome" in t.params["text"].lower()
    ] == welcomes
    assert both.member("telegram", 555) is dana
