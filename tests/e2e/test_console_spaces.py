"""Two spaces in one console community, as a Discord server and a Telegram group: the
second space (`tg`) joins with the space code, has its own accounts (`Dana@tg`), and
one person's two accounts become one member with `/link`."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from adapters.console.community import ConsoleCommunity
from adapters.console.script import Refused
from bot.actions import Action, Reply, SendDirect
from storage.database import Database

LINK = re.compile(r"/link ([A-Z2-9]{4}-[A-Z2-9]{4})")
SETUP = re.compile(r"/setup ([A-Z2-9]{4}-[A-Z2-9]{4})")


def _found(pattern: re.Pattern[str], shown: str) -> str:
    found = pattern.search(shown)
    assert found is not None, shown
    return found.group(1)


async def _second_space(console: ConsoleCommunity) -> None:
    """The owner adds the bot to the group `tg` and links it to the community."""
    await console.run("/spaces link")
    code = _found(SETUP, console.last_text())
    await console.run(f"/as owner@tg\n/setup {code}\n/as owner")


async def _link(console: ConsoleCommunity, first: str, second: str) -> str:
    """FIRST asks for a code privately, SECOND uses it privately; what SECOND is told."""
    await console.run(f"/as {first}\n/dm /link")
    code = _found(LINK, console.last_text())
    await console.run(f"/as {second}\n/dm /link {code}")
    answer = console.last_text()
    await console.run("/as owner")
    return answer


async def _names(console: ConsoleCommunity) -> list[str]:
    async with Database(console.config.database.url).session() as session:
        rows = await session.execute(text("SELECT display_name FROM member"))
    return sorted(rows.scalars().all())


async def test_a_second_space_joins_the_community_and_its_messages_count(
    console: ConsoleCommunity,
) -> None:
    await _second_space(console)
    assert console.seen_by("#general@tg") == ["This space now belongs to Test Community."]
    await console.run("/spaces list")
    assert console.last_text().splitlines()[1:] == [
        "• console: Console community",
        "• console: tg",
    ]
    await console.run("/say Noa@tg hello from the group\n/stats")
    assert "Active members: 1 / 1" in console.last_text()
    assert "Messages: 1 / 1" in console.last_text()


async def test_one_person_in_two_spaces_is_one_member_once_linked(
    console: ConsoleCommunity,
) -> None:
    await _second_space(console)
    await console.run("/onboarding set welcome Welcome, {member}!")
    console.clear()
    await console.run("/join Dana\n/say Dana hi\n/join Dana@tg\n/say Dana@tg hi from tg")
    # Two accounts, two members for now: each space welcomes its newcomer.
    assert console.seen_by("#general") == ["Welcome, @Dana!"]
    assert console.seen_by("#general@tg") == ["Welcome, @Dana!"]
    await console.run("/stats")
    assert "Active members: 2 / 2" in console.last_text()
    assert "Joined: 2 / 2" in console.last_text()

    answer = await _link(console, "Dana", "Dana@tg")
    assert answer.startswith("Linked: your accounts (Console) are one member of Test Community")
    assert console.seen_by("@Dana@tg")[-1] == answer  # told privately, on the account used
    await console.run("/stats")
    assert "Active members: 1 / 1" in console.last_text()
    assert "Messages: 2 / 2" in console.last_text()
    assert "Joined: 1 / 1" in console.last_text()
    await console.run("/members show Dana")
    assert console.last_text() == "• Dana: 2 accounts (Console, Console)"

    # /mydata from either account lists both; /forgetme from one removes the person.
    await console.run("/as Dana@tg\n/dm /mydata")
    reply = console.actions(Reply)[-1]
    assert isinstance(reply, Reply) and reply.private
    data = json.loads(reply.attachments[0].data)
    assert sorted(a["user_id"] for a in data["accounts"]) == ["dana", "dana@tg"]
    await console.run("/dm /forgetme\n/click 1")
    assert console.last_text().startswith("Done")
    assert "Dana" not in await _names(console)
    await console.run("/as owner\n/members show Dana\n/stats")
    assert console.performed[-2].text == "No member is called Dana."
    assert "Active members: 0 / 0" in console.last_text()


async def test_linked_before_joining_the_other_space_no_second_welcome(
    console: ConsoleCommunity,
) -> None:
    await _second_space(console)
    await console.run("/onboarding set welcome Welcome, {member}!")
    console.clear()
    await console.run("/join Eli")
    assert console.seen_by("#general") == ["Welcome, @Eli!"]
    await _link(console, "Eli", "Eli@tg")  # Eli@tg writes to the bot before joining
    console.clear()
    await console.run("/join Eli@tg\n/say Eli@tg hello")
    assert console.seen_by("#general@tg") == []
    assert console.seen_by("@Eli@tg") == []
    await console.run("/stats")
    assert "Joined: 1 / 1" in console.last_text()
    assert "Active members: 1 / 1" in console.last_text()


async def test_the_second_space_and_its_accounts_outlive_a_restart(
    console: ConsoleCommunity,
) -> None:
    await _second_space(console)
    await console.run("/join Dana@tg\n/as Dana@tg")
    await console.restart()
    assert console.session.where == "#general@tg"  # acting as Dana@tg, in her group
    await console.run("hello again\n/as owner\n/stats")
    assert "Messages: 1 / 1" in console.last_text()


async def test_each_space_keeps_its_own_invites_and_reactions(console: ConsoleCommunity) -> None:
    await _second_space(console)
    await console.run("/as Dana\n/newinvite dana")
    with pytest.raises(Refused, match="the invite dana is one of console, not of tg"):
        await console.run("/join Noa@tg invite=dana")
    await console.run("/say Noa@tg hi\n/as Avi")
    with pytest.raises(Refused, match="nobody else has posted in #general yet"):
        await console.run("/react")
    await console.run("/as Avi@tg\n/react")
    assert console.adapter.notes[-1] == "(Avi@tg reacted 👍 to Noa@tg's last message)"


async def test_private_messages_go_to_the_account_used_last_then_to_the_other(
    console: ConsoleCommunity,
) -> None:
    """The owner's weekly digest, once the owner has linked their account in `tg`."""
    await _second_space(console)
    await _link(console, "owner", "owner@tg")
    await console.run("/join Dana\n/say Dana hi\n/as owner@tg\nhello from the group")
    await console.advance(timedelta(days=7, hours=1))  # Monday 9 March 09:00
    assert [p.audience for p in console.performed if _digest(p.action)] == ["@owner@tg"]
    console.clear()
    await console.run("/dms owner@tg off")  # closed there: it goes to the other account
    await console.advance(timedelta(days=7))
    assert [p.audience for p in console.performed if _digest(p.action)] == ["@owner"]


def _digest(action: Action) -> bool:
    return isinstance(action, SendDirect) and bool(action.attachments)
