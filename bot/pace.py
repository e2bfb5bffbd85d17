"""Keeping a platform's sending limits (its `Capabilities.pace`), in one process.

Each limit is a sliding window: at most `count` messages in any `seconds`, for the
whole bot on a platform (`overall`) and for one chat (`group`, `private`). The
outbox's worker asks `wait` before each send: 0 means go (and the send is counted,
as as many messages as the platform will need for it: `sends`), more is how long to
hold it. A chat the platform answered with "retry after" is held
until then (`hold`). Several processes sending with one token each keep their share
(`outbox.processes`); the platform's own answers (429) catch what that misses.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from bot.actions import Action, Send, SendDirect
from bot.ports import Pace, Window

# Windows not used for this long are forgotten (every so many sends, not each).
SWEEP_EVERY = 1000


def shared(window: Window, processes: int) -> Window:
    """One process's share of a limit kept by `processes` together."""
    if processes <= 1:
        return window
    if window.count >= processes:
        return Window(window.count // processes, window.seconds)
    return Window(1, window.seconds * processes / window.count)


def sends(action: Action, max_text_length: int) -> int:
    """How many messages the platform needs for `action`: a text longer than its
    limit goes as several (a long digest on Telegram: two). Counted on the text as
    shown (Telegram's limit is on the text after its formatting is taken out)."""
    if not isinstance(action, Send | SendDirect) or max_text_length <= 0:
        return 1
    return max(1, -(-len(action.text.plain()) // max_text_length))


def per_second(rate: float) -> Window:
    return Window(round(rate), 1.0) if rate >= 1 else Window(1, 1.0 / rate)


class Pacer:
    def __init__(self, *, processes: int = 1, overall: Mapping[str, float] | None = None) -> None:
        self.processes = processes
        # Configured overall rates, by platform, instead of the published ones.
        self.overall = dict(overall or {})
        self._sent: dict[str, deque[datetime]] = {}
        self._held: dict[str, datetime] = {}
        self._calls = 0

    def limits(self, platform: str, pace: Pace | None) -> Pace | None:
        rate = self.overall.get(platform)
        if rate is not None:
            pace = replace(pace or Pace(), overall=per_second(rate))
        if pace is None or self.processes <= 1:
            return pace
        return Pace(
            *(
                None if w is None else shared(w, self.processes)
                for w in (pace.overall, pace.group, pace.private)
            )
        )

    def wait(
        self, platform: str, pace: Pace | None, key: str, now: datetime, count: int = 1
    ) -> float:
        """Seconds until `count` messages to chat `key` ("@user" private, else a group)
        may go; 0: they may go now, and they are counted."""
        self._sweep(now)
        chat = f"{platform}|{key}"
        longest = 0.0
        held = self._held.get(chat)
        if held is not None:
            if held > now:
                longest = (held - now).total_seconds()
            else:
                del self._held[chat]
        limits = self.limits(platform, pace)
        windows: list[tuple[str, Window]] = []
        if limits is not None:
            per_chat = limits.private if key.startswith("@") else limits.group
            if limits.overall is not None:
                windows.append((platform, limits.overall))
            if per_chat is not None:
                windows.append((chat, per_chat))
        for name, window in windows:
            longest = max(longest, self._window_wait(name, window, now, count))
        if longest > 0:
            return longest
        for name, _window in windows:
            self._sent.setdefault(name, deque()).extend([now] * count)
        return 0.0

    def hold(self, platform: str, key: str, until: datetime) -> None:
        """Send nothing more to this chat before `until` (the platform said so)."""
        chat = f"{platform}|{key}"
        self._held[chat] = max(until, self._held.get(chat, until))

    def _window_wait(self, name: str, window: Window, now: datetime, count: int) -> float:
        sent = self._sent.get(name)
        if not sent:
            return 0.0
        start = now - timedelta(seconds=window.seconds)
        while sent and sent[0] <= start:
            sent.popleft()
        # More messages than the window holds at all go once it is empty.
        needed = len(sent) + min(count, window.count) - window.count
        if needed <= 0:
            return 0.0
        # The `needed` oldest sends must leave the window first.
        return (sent[needed - 1] - start).total_seconds()

    def _sweep(self, now: datetime) -> None:
        self._calls += 1
        if self._calls % SWEEP_EVERY:
            return
        # No window is longer than a few minutes; an hour-old send counts nowhere.
        stale = now - timedelta(hours=1)
        for name in [n for n, sent in self._sent.items() if not sent or sent[-1] <= stale]:
            del self._sent[name]
