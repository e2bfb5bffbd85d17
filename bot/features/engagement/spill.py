"""Counts kept outside the database: the spill file, and rows set aside.

**The spill file.** At stop, the engagement feature writes the counts it holds in
memory. When that fails (the database dropped or unreachable), they are written to
`engagement-spill.json` in the data dir (`bot.data_dir`; by default the SQLite
database's folder, or the working directory) and `kehila run` exits with code 5. The
next start writes them to the database, in one transaction, before it takes any
event, and removes the file: replayed once. A second stop that cannot write adds its
counts to a file still there. The file holds what the database would have: counts by
member id and day, and the first 100 characters of recent questions.

**Set-aside rows.** A row the database refuses (`storage.engagement.Rejected`: a
value it cannot store, a constraint the row breaks) does not stop the rest of its
flush. It is logged and appended to `engagement-quarantine.jsonl` beside the spill
file, one JSON object a line: when, the table, the row without message text, and the
error's class and code (never its message, which can quote the row).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Container, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Config
from bot.features.engagement.unanswered import QuestionBuffer
from storage.engagement import Rejected

try:
    import fcntl
except ImportError:  # not POSIX: one process per data dir
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from bot.features.engagement.buffer import Buffer

FORMAT = 1


def spill_path(config: Config) -> Path:
    return config.data_dir / "engagement-spill.json"


def quarantine_path(config: Config) -> Path:
    return config.data_dir / "engagement-quarantine.jsonl"


def spill(path: Path, buffer: Buffer, questions: QuestionBuffer) -> None:
    """Write the counts to `path`, adding those of a file already there (not yet
    replayed). Written to a temporary file first and renamed: a crash leaves the old
    file or the new one, never half of one. Several processes stopping at once (one
    deploy, the database away) take turns: a lock file beside it."""
    data = _dump(buffer, questions)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.with_name(path.name + ".lock")):
        if path.exists():
            try:
                data = _combine(json.loads(path.read_text(encoding="utf-8")), data)
            except (ValueError, KeyError, TypeError):
                # Not ours to read: kept for whoever can, and not in the way of ours.
                path.rename(path.with_name(path.name + ".unreadable"))
        partial = path.with_name(path.name + f".partial-{os.getpid()}")
        with partial.open("w", encoding="utf-8") as out:
            json.dump(data, out, separators=(",", ":"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)


@contextlib.contextmanager
def _locked(lock: Path) -> Iterator[None]:
    with lock.open("a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


def claim(path: Path) -> Path | None:
    """Take the spill file for replaying: renamed, so that a second process starting
    from the same folder does not replay it too. None if there is none."""
    claimed = path.with_name(path.name + f".replaying-{os.getpid()}")
    try:
        os.rename(path, claimed)
    except FileNotFoundError:
        return None
    return claimed


def give_back(claimed: Path, path: Path, buffer: Buffer, questions: QuestionBuffer) -> None:
    """A replay that could not be written: its counts go back to the spill file."""
    spill(path, buffer, questions)
    claimed.unlink()


def load(path: Path, buffer: Buffer, questions: QuestionBuffer, known: Container[int]) -> None:
    """Add the file's counts to `buffer` and `questions`, except those of members
    that are gone (deleted since: their data must not come back)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown format {data.get('format')!r}")
    for c, d, m, values in data["activity"]:
        if m in known:
            counters = buffer.activity[(c, date.fromisoformat(d), m)]
            for i, v in enumerate(values):
                counters[i] += v
    for c, d, f, t, (replies, reactions) in data["interactions"]:
        if f in known and t in known:
            pair = buffer.interactions[(c, date.fromisoformat(d), f, t)]
            pair[0] += replies
            pair[1] += reactions
    for c, d, ch, h, n in data["channels"]:
        buffer.channels[(c, date.fromisoformat(d), ch, h)] += n
    buffer.events += data["events"]
    for q in data["questions"]:
        if q["member_id"] in known:
            question = {
                **q,
                "asked_at": datetime.fromisoformat(q["asked_at"]),
                "answered_at": _time(q["answered_at"]),
            }
            key = (q["platform"], q["space_id"], q["message_id"])
            questions.questions.setdefault(key, question)
    for p, s, m, at in data["answers"]:
        answer, when = (p, s, m), datetime.fromisoformat(at)
        if answer not in questions.answers or when < questions.answers[answer]:
            questions.answers[answer] = when
    questions.no_text.update(data["no_text"])


def set_aside(path: Path, rejected: list[Rejected], at: datetime) -> None:
    """Append refused rows to the quarantine file, without message text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        for r in rejected:
            record = {"at": at, "table": r.table, "row": r.loggable(), "error": r.reason}
            out.write(json.dumps(record, default=_plain) + "\n")


def _dump(buffer: Buffer, questions: QuestionBuffer) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "events": buffer.events,
        "activity": [[c, d.isoformat(), m, v] for (c, d, m), v in buffer.activity.items()],
        "interactions": [
            [c, d.isoformat(), f, t, v] for (c, d, f, t), v in buffer.interactions.items()
        ],
        "channels": [[c, d.isoformat(), ch, h, n] for (c, d, ch, h), n in buffer.channels.items()],
        "questions": [
            {k: _plain(v) if isinstance(v, datetime) else v for k, v in q.items()}
            for q in questions.questions.values()
        ],
        "answers": [[p, s, m, at.isoformat()] for (p, s, m), at in questions.answers.items()],
        "no_text": sorted(questions.no_text),
    }


def _combine(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Two spills as one: lists of additive rows simply concatenate (loading adds)."""
    if old.get("format") != FORMAT:
        raise ValueError(f"unknown format {old.get('format')!r}")
    out = dict(new)
    for key in ("activity", "interactions", "channels", "questions", "answers"):
        out[key] = old[key] + new[key]
    out["events"] = old["events"] + new["events"]
    out["no_text"] = sorted(set(old["no_text"]) | set(new["no_text"]))
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
