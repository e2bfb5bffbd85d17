"""Actions as JSON data, for what is stored before it is sent: the outbox's rows
(bot/outbox.py) and the private messages kept until /start (bot/pending.py).

Only actions that stand on their own are stored: `Send`, `SendDirect`, `Edit`,
`Delete`. A `Reply` or `AnswerButton` points at the event being handled (and goes
at once); a `CreateInvite` has a result its handler needs; those are refused.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from bot.actions import Action, Attachment, Button, Delete, Edit, Send, SendDirect
from bot.markup import Text, from_data, to_data

STORABLE: dict[str, type[Action]] = {
    kind.__name__: kind for kind in (Send, SendDirect, Edit, Delete)
}


class NotStorable(TypeError):
    """An action that cannot wait in the outbox (it needs the event, or its result)."""


def buttons_data(buttons: tuple[Button, ...]) -> list[list[str]]:
    return [[b.label, b.action_id, b.style] for b in buttons]


def buttons_from(data: list[list[str]]) -> tuple[Button, ...]:
    return tuple(Button(label, action_id, style) for label, action_id, style in data)  # type: ignore[arg-type]


def attachments_data(attachments: tuple[Attachment, ...]) -> list[list[str]]:
    return [[a.filename, a.mime_type, base64.b64encode(a.data).decode()] for a in attachments]


def attachments_from(data: list[list[str]]) -> tuple[Attachment, ...]:
    return tuple(Attachment(name, base64.b64decode(body), mime) for name, mime, body in data)


_TO: dict[str, Callable[[Any], Any]] = {
    "text": lambda t: to_data(t.nodes),
    "buttons": buttons_data,
    "attachments": attachments_data,
}
_FROM: dict[str, Callable[[Any], Any]] = {
    "text": lambda d: Text(from_data(d)),
    "buttons": buttons_from,
    "attachments": attachments_from,
    "also": lambda d: tuple((str(p), str(u)) for p, u in d),
}


def to_data_of(action: Action) -> dict[str, Any]:
    """The action as JSON-ready data, its type under "kind"."""
    kind = type(action).__name__
    if STORABLE.get(kind) is not type(action):
        raise NotStorable(f"{kind} cannot be queued: only {', '.join(STORABLE)} can")
    data: dict[str, Any] = {"kind": kind}
    for f in fields(action):
        value = getattr(action, f.name)
        data[f.name] = _TO[f.name](value) if f.name in _TO else value
    return data


def from_data_of(data: dict[str, Any]) -> Action:
    kind = STORABLE.get(str(data.get("kind")))
    if kind is None:
        raise NotStorable(f"unknown stored action {data.get('kind')!r}")
    values: dict[str, Any] = {
        f.name: _FROM[f.name](data[f.name]) if f.name in _FROM else data[f.name]
        for f in fields(kind)
        if f.name in data
    }
    return kind(**values)
