"""The pacer counts a send as the messages the platform needs for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.actions import Delete, Send, SendDirect
from bot.markup import Text
from bot.pace import Pacer, sends
from bot.ports import Pace, Window

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_text_longer_than_the_platforms_limit_is_several_messages() -> None:
    post = Send(platform="telegram", space_id="g", channel_id="", text=Text.of("x" * 4097))
    assert sends(post, 4096) == 2
    direct = SendDirect(platform="telegram", user_id="7", text=Text.of("x" * 4096))
    assert sends(direct, 4096) == 1
    assert sends(Delete(platform="telegram", space_id="g", channel_id="", message_id="1"), 10) == 1


def test_a_two_part_message_waits_for_room_for_both() -> None:
    pacer = Pacer()
    pace = Pace(group=Window(3, 60.0))
    assert pacer.wait("telegram", pace, "g", NOW, 2) == 0  # 2 of 3
    # One more single message fits; a second two-part one does not until the first
    # two have left the minute.
    assert pacer.wait("telegram", pace, "g", NOW + timedelta(seconds=1), 2) == 59.0
    assert pacer.wait("telegram", pace, "g", NOW + timedelta(seconds=1), 1) == 0
    assert pacer.wait("telegram", pace, "g", NOW + timedelta(seconds=60), 2) == 0


def test_more_parts_than_the_window_holds_go_once_it_is_empty() -> None:
    pacer = Pacer()
    pace = Pace(group=Window(2, 10.0))
    assert pacer.wait("telegram", pace, "g", NOW, 1) == 0
    assert pacer.wait("telegram", pace, "g", NOW + timedelta(seconds=1), 5) == 9.0
    assert pacer.wait("telegram", pace, "g", NOW + timedelta(seconds=10), 5) == 0
