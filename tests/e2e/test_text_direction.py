"""What the owner reads in English or German starts left to right, even when it
starts with a Hebrew name."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.console.community import ConsoleCommunity
from bot.config import Config
from bot.i18n import LRM
from tests.conftest import START


@pytest.mark.parametrize(
    ("locale", "set_up"),
    [("en", "קפה שכונתי is set up, and you are its owner."),
     ("de", "קפה שכונתי ist eingerichtet und gehört jetzt dir.")],
)  # fmt: skip
async def test_a_hebrew_community_name_first_in_an_english_or_german_line(
    config: Config, tmp_path: Path, locale: str, set_up: str
) -> None:
    config = config.model_copy(update={"bot": config.bot.model_copy(update={"locale": locale})})
    console = ConsoleCommunity(config, start=START, files_dir=tmp_path / "files")
    await console.start(migrate=False)
    try:
        await console.run("/setup קפה שכונתי\n/join dana")
        first = console.seen_by("#general")[0].split("\n")[0]
        assert first == LRM + set_up
        welcome = console.seen_by("#general")[-1]
        assert not welcome.startswith(LRM)  # "Welcome to …, @dana!" starts in English
    finally:
        await console.stop()
