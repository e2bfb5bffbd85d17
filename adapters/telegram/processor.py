"""Process updates of different chats at once, and those of one chat in order.

PTB awaits one update at a time by default, so a handler that waits for a send (a
welcome held back by the per-group rate limit) would stall every group. This
processor lets updates of different chats run concurrently while keeping each chat's
updates in arrival order (a join is handled before that member's first message).

PTB's own semaphore (`max_queued`) only bounds how many updates wait; the updates
actually being handled are bounded by `max_active`. An update waiting for its chat's
turn holds no `max_active` slot, so one busy group cannot starve the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    chat = update.effective_chat
    if chat is not None:
        return chat.id
    user = update.effective_user
    return user.id if user is not None else None


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_active: int = 64, max_queued: int = 4096) -> None:
        super().__init__(max_concurrent_updates=max_queued)
        self._active = asyncio.Semaphore(max_active)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            async with self._active:
                await coroutine
            return
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock, self._active:
                await coroutine
        finally:
            left = self._waiting[key] - 1
            if left:
                self._waiting[key] = left
            else:  # nobody else waits on this chat: forget its lock
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
