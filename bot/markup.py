"""The neutral text markup every adapter renders.

A `Text` is a tuple of nodes: plain strings, `Bold`, `Italic`, `Link`, `Mention`,
`Items` (a bullet list). Plain strings are member-supplied or translated text and
are escaped by each renderer; only nodes carry formatting.

Translated templates may use `**bold**` and `{placeholders}`; `format_text` turns
them into nodes, inserting values (strings, numbers or nodes) without
interpreting any markup inside the values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Union

Node = Union[str, "Bold", "Italic", "Link", "Mention", "Items"]


@dataclass(frozen=True, slots=True)
class Bold:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Italic:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    label: str


@dataclass(frozen=True, slots=True)
class Mention:
    """A member, by platform user id; `name` is shown where a mention cannot ping."""

    user_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Items:
    items: tuple[tuple[Node, ...], ...]


@dataclass(frozen=True, slots=True)
class Text:
    nodes: tuple[Node, ...]

    @classmethod
    def of(cls, *parts: Node | Text) -> Text:
        nodes: list[Node] = []
        for part in parts:
            if isinstance(part, Text):
                nodes.extend(part.nodes)
            else:
                nodes.append(part)
        return cls(tuple(nodes))

    def __add__(self, other: Text | str) -> Text:
        return Text.of(self, other)

    def plain(self) -> str:
        """The text without formatting (console, logs, tests)."""
        return render_plain(self.nodes)


def lines(parts: Iterable[Text | str]) -> Text:
    """Join texts with newlines."""
    out: list[Node | Text] = []
    for i, part in enumerate(parts):
        if i:
            out.append("\n")
        out.append(part)
    return Text.of(*out)


_TOKEN = re.compile(r"\*\*(.+?)\*\*|\{(\w+)\}", re.S)
Value = str | int | float | Node | Text


def format_text(template: str, values: dict[str, Value]) -> Text:
    """Fill `{name}` placeholders with values and `**x**` with bold.

    Raises KeyError for a placeholder without a value: a translation that names a
    placeholder its source does not have is a bug the catalog test catches.
    """
    nodes: list[Node | Text] = []
    pos = 0
    for m in _TOKEN.finditer(template):
        if m.start() > pos:
            nodes.append(template[pos : m.start()])
        if m.group(1) is not None:
            nodes.append(Bold(format_text(m.group(1), values).nodes))
        else:
            nodes.append(_as_node(values[m.group(2)]))
        pos = m.end()
    if pos < len(template):
        nodes.append(template[pos:])
    return Text.of(*nodes)


def _as_node(value: Value) -> Node | Text:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
    if isinstance(value, bool):
        return str(value)
    return value


def render_plain(nodes: Iterable[Node], *, mention_prefix: str = "@") -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Bold | Italic):
            out.append(render_plain(node.children, mention_prefix=mention_prefix))
        elif isinstance(node, Link):
            out.append(f"{node.label} ({node.url})" if node.label != node.url else node.url)
        elif isinstance(node, Mention):
            out.append(f"{mention_prefix}{node.name}")
        elif isinstance(node, Items):
            out.append(
                "\n".join(
                    "• " + render_plain(item, mention_prefix=mention_prefix) for item in node.items
                )
            )
    return "".join(out)


def split_rendered(text: str, limit: int) -> list[str]:
    """Split rendered text under a platform's length limit, at line breaks if possible."""
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        chunks.append(text)
    return chunks


# --- plain data (JSON) form, for messages stored to be sent later ---------------------------


def to_data(nodes: Iterable[Node]) -> list[Any]:
    out: list[Any] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Bold):
            out.append({"b": to_data(node.children)})
        elif isinstance(node, Italic):
            out.append({"i": to_data(node.children)})
        elif isinstance(node, Link):
            out.append({"link": node.url, "label": node.label})
        elif isinstance(node, Mention):
            out.append({"mention": node.user_id, "name": node.name})
        elif isinstance(node, Items):
            out.append({"items": [to_data(item) for item in node.items]})
    return out


def from_data(data: list[Any]) -> tuple[Node, ...]:
    nodes: list[Node] = []
    for item in data:
        if isinstance(item, str):
            nodes.append(item)
        elif "b" in item:
            nodes.append(Bold(from_data(item["b"])))
        elif "i" in item:
            nodes.append(Italic(from_data(item["i"])))
        elif "link" in item:
            nodes.append(Link(item["link"], item["label"]))
        elif "mention" in item:
            nodes.append(Mention(item["mention"], item["name"]))
        elif "items" in item:
            nodes.append(Items(tuple(from_data(i) for i in item["items"])))
    return tuple(nodes)


def message_link(platform: str, space_id: str, channel_id: str, message_id: str) -> str | None:
    """A link that opens a message, where the platform has one (Discord; a Telegram
    supergroup). Shared by the digest's and the moderators' question links."""
    if platform == "discord":
        return f"https://discord.com/channels/{space_id}/{channel_id}/{message_id}"
    if platform == "telegram" and space_id.startswith("-100"):
        return f"https://t.me/c/{space_id[4:]}/{message_id}"
    return None
