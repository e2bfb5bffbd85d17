"""What the console keeps between two runs, in its data folder.

A platform remembers who is in a group, the messages a reply can point at, the
invites and the buttons it shows; the console's simulated platform keeps the same
in `console.json`, with its clock, so that a restart goes on where the last run
stopped (a digest never reports on a week before `/setup`). Message texts are not
kept: a reply to a message from an earlier run carries no quoted text, as when a
platform does not send it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.console.adapter import ConsoleAdapter, ConsoleMember
from bot.actions import Button
from bot.config import DEFAULT_DATABASE_URL, Config

DEFAULT_DATA_DIR = Path("var/console")
VERSION = 1


@dataclass(frozen=True)
class ConsoleData:
    """The console's folder: its SQLite database (unless the configuration names
    another), the files the bot sends (charts, exports), its log, and its world."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "kehila.db"

    @property
    def files(self) -> Path:
        return self.root / "files"

    @property
    def log(self) -> Path:
        return self.root / "kehila.log"

    @property
    def world(self) -> Path:
        return self.root / "console.json"

    def configure(self, config: Config) -> Config:
        """CONFIG with the database in this folder, unless it names a database of its
        own (the config file's `database.url`, or KEHILA_DATABASE_URL)."""
        if config.database.url != DEFAULT_DATABASE_URL:
            return config
        url = f"sqlite+aiosqlite:///{self.database}"
        return config.model_copy(
            update={"database": config.database.model_copy(update={"url": url})}
        )

    def uses_own_database(self, config: Config) -> bool:
        return config.database.url == f"sqlite+aiosqlite:///{self.database}"

    def reset(self) -> None:
        """Forget the community kept here: its database and world (the log goes on;
        files stay, and are overwritten by the next ones of the same name)."""
        for path in (self.database, self.world):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


# --- the world, as data ------------------------------------------------------------


def snapshot(adapter: ConsoleAdapter, now: datetime, *, texts: bool = False) -> dict[str, Any]:
    """The simulated platform's memory, as JSON-able data (message texts only if asked:
    a restart in the same process keeps them, a file does not)."""
    return {
        "version": VERSION,
        "clock": now.isoformat(),
        "last_id": adapter.last_id,
        "members": [{**asdict(m), "roles": sorted(m.roles)} for m in adapter.members.values()],
        "last_message": {uid: list(where) for uid, where in adapter.last_message.items()},
        "invites": adapter.invites,
        "buttons": {
            where: [[asdict(button), message_id] for button, message_id in shown]
            for where, shown in adapter.button_sets.items()
        },
        "closed": sorted(adapter.closed),
        "texts": dict(adapter.texts) if texts else {},
    }


def restore(adapter: ConsoleAdapter, data: dict[str, Any]) -> None:
    adapter.last_id = int(data["last_id"])
    adapter.members = {
        m["user_id"]: ConsoleMember(**{**m, "roles": set(m["roles"])}) for m in data["members"]
    }
    adapter.last_message = {uid: (w[0], w[1]) for uid, w in data["last_message"].items()}
    adapter.invites = dict(data["invites"])
    adapter.button_sets = {
        where: [(Button(**button), message_id) for button, message_id in shown]
        for where, shown in data["buttons"].items()
    }
    adapter.closed = set(data.get("closed", ()))
    adapter.texts = dict(data.get("texts", {}))


def clock_of(data: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(data["clock"])


def save(path: Path, data: dict[str, Any]) -> None:
    """Written whole or not at all: a run stopped mid-write keeps the previous world."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(partial, path)


def load(path: Path) -> dict[str, Any] | None:
    """The world kept at PATH, or None when there is none (or it cannot be read: the
    console then starts a new world, on today's date)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            return None
        clock_of(data)
        return data
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
