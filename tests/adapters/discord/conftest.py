from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from dc_fakeapi import FakeDiscord
from dc_harness import Harness


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeDiscord:
    fake = FakeDiscord()
    fake.install(monkeypatch)
    return fake


@pytest.fixture
async def discord_bot(api: FakeDiscord) -> AsyncIterator[Harness]:
    """The adapter logged in (setup_hook run) and added to the test guild."""
    harness = await Harness(api).open()
    await harness.join_guild()
    yield harness
    await harness.close()
