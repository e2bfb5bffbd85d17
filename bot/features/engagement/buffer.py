"""The engagement counters not yet written: per (community, local day, member), per
pair of members who interacted, per channel-hour; swapped out whole at each flush.
Pure data and the folds the flush needs (weekly rows, a merge of two members)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

# Counter positions in an ActivityDaily buffer row.
MESSAGES, REPLIES, REPLIES_RECEIVED, REACTIONS, REACTIONS_RECEIVED, JOINS, LEAVES = range(7)
ACTIVITY_COLUMNS = (
    "messages",
    "replies",
    "replies_received",
    "reactions",
    "reactions_received",
    "joins",
    "leaves",
)
# A join or leave reported again this close to the one on record is that one again


class Buffer:
    """Counter deltas not yet written. Swapped out whole at each flush."""

    __slots__ = ("activity", "channels", "events", "interactions", "unresolved")

    def __init__(self) -> None:
        self.activity: defaultdict[tuple[int, date, int], list[int]] = defaultdict(lambda: [0] * 7)
        self.interactions: defaultdict[tuple[int, date, int, int], list[int]] = defaultdict(
            lambda: [0, 0]
        )
        self.channels: defaultdict[tuple[int, date, str, int], int] = defaultdict(int)
        # Replies and reactions to an account this process has not seen (another
        # worker has): (community, day, from member, platform, account) -> [replies,
        # reactions]; resolved from the database at the flush.
        self.unresolved: defaultdict[tuple[int, date, int, str, str], list[int]] = defaultdict(
            lambda: [0, 0]
        )
        self.events = 0


def merge_buffer(buffer: Buffer, from_id: int, into_id: int) -> None:
    """`from_id`'s counts in `buffer` are `into_id`'s; their interactions with each
    other are dropped (one person)."""
    for key in [k for k in buffer.activity if k[2] == from_id]:
        counts = buffer.activity.pop(key)
        into = buffer.activity[(key[0], key[1], into_id)]
        for i, n in enumerate(counts):
            into[i] += n
    for ikey in [k for k in buffer.interactions if from_id in (k[2], k[3])]:
        pair = buffer.interactions.pop(ikey)
        a = into_id if ikey[2] == from_id else ikey[2]
        b = into_id if ikey[3] == from_id else ikey[3]
        if a != b:
            target = buffer.interactions[(ikey[0], ikey[1], a, b)]
            target[0] += pair[0]
            target[1] += pair[1]


def weekly_rows(buffer: Buffer) -> list[dict[str, Any]]:
    """The buffer's daily counters folded into local weeks (from Monday), with the
    active days as a bit mask (bit 0 = Monday) that later flushes OR into."""
    weeks: dict[tuple[int, date, int], list[int]] = {}
    for (c, d, m), v in buffer.activity.items():
        key = (c, d - timedelta(days=d.weekday()), m)
        row = weeks.get(key)
        if row is None:
            row = weeks[key] = [0] * 7
        row[0] += v[MESSAGES]
        row[1] += v[REPLIES]
        row[2] += v[REPLIES_RECEIVED]
        row[3] += v[REACTIONS]
        row[4] += v[JOINS]
        row[5] += v[LEAVES]
        if v[MESSAGES] or v[REPLIES] or v[REACTIONS]:
            row[6] |= 1 << d.weekday()
    columns = ("messages", "replies", "replies_received", "reactions", "joins", "leaves")
    return [
        {
            "community_id": c,
            "week_start": w,
            "member_id": m,
            **dict(zip(columns, v[:6], strict=True)),
            "active_mask": v[6],
        }
        for (c, w, m), v in weeks.items()
    ]
