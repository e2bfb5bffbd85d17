"""bot.markup -> Telegram HTML, split under the message length limit.

Telegram counts the limit (4,096) on the text *after* entity parsing, in UTF-16
code units, so we measure what the reader sees, not the HTML. Splitting works on
the node list: a chunk boundary never falls inside a tag, and a bold or italic run
that straddles it is closed before and reopened after.

Plain strings are member-supplied or translated text: always escaped. Only nodes
produce tags. This module imports nothing from `telegram`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from bot.markup import Bold, Italic, Items, Link, Mention, Node, Text

MAX_MESSAGE_LENGTH = 4096
BULLET = "• "


def _u16(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def render_nodes(nodes: Iterable[Node]) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(_esc(node))
        elif isinstance(node, Bold):
            out.append(f"<b>{render_nodes(node.children)}</b>")
        elif isinstance(node, Italic):
            out.append(f"<i>{render_nodes(node.children)}</i>")
        elif isinstance(node, Link):
            out.append(f'<a href="{_attr(node.url)}">{_esc(node.label)}</a>')
        elif isinstance(node, Mention):
            out.append(f'<a href="tg://user?id={_attr(node.user_id)}">{_esc(node.name)}</a>')
        elif isinstance(node, Items):
            out.append("\n".join(BULLET + render_nodes(item) for item in node.items))
        else:  # pragma: no cover - the Node union is closed
            raise TypeError(f"unknown markup node {node!r}")
    return "".join(out)


def visible_length(nodes: Iterable[Node]) -> int:
    """What Telegram counts: the text the reader sees, in UTF-16 code units."""
    total = 0
    for node in nodes:
        if isinstance(node, str):
            total += _u16(node)
        elif isinstance(node, Bold | Italic):
            total += visible_length(node.children)
        elif isinstance(node, Link):
            total += _u16(node.label)
        elif isinstance(node, Mention):
            total += _u16(node.name)
        elif isinstance(node, Items) and node.items:
            total += sum(_u16(BULLET) + visible_length(item) for item in node.items)
            total += len(node.items) - 1
    return total


def render(text: Text, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Render to one or more HTML messages, each at most `limit` visible characters."""
    return [render_nodes(chunk) for chunk in split_nodes(text.nodes, limit)]


# --- splitting ---------------------------------------------------------------------


def split_nodes(nodes: Sequence[Node], limit: int) -> list[tuple[Node, ...]]:
    """Pack nodes into chunks of at most `limit` visible units each.

    A node that fits in a fresh chunk is never split: it moves to the next chunk.
    Only a node longer than a whole chunk is cut (strings at a line break, else a
    space, else anywhere; bold/italic through their children; lists between items).
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    chunks: list[tuple[Node, ...]] = []
    current: list[Node] = []
    used = 0
    queue: list[Node] = list(nodes)
    while queue:
        node = queue.pop(0)
        size = visible_length((node,))
        if used + size <= limit:
            current.append(node)
            used += size
            continue
        if current and size <= limit:
            chunks.append(tuple(current))
            current, used = [], 0
            queue.insert(0, _lstrip(node))
            continue
        head, tail = _cut(node, limit - used)
        if head is None:
            if not current:  # nothing fits even in an empty chunk: atomic and too long
                head, tail = _hard_cut(node, limit)
            else:
                chunks.append(tuple(current))
                current, used = [], 0
                queue.insert(0, _lstrip(node))
                continue
        if head is not None:
            current.append(head)
        chunks.append(tuple(current))
        current, used = [], 0
        if tail is not None:
            queue.insert(0, _lstrip(tail))
    if current:
        chunks.append(tuple(current))
    return [c for c in chunks if visible_length(c) > 0 or any(not isinstance(n, str) for n in c)]


def _lstrip(node: Node) -> Node:
    return node.lstrip("\n") if isinstance(node, str) else node


def _fit_prefix(text: str, budget: int) -> int:
    """How many code points of `text` fit in `budget` UTF-16 units."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > budget:
            return i
    return len(text)


def _cut_str(text: str, budget: int) -> tuple[str | None, str | None]:
    fit = _fit_prefix(text, budget)
    if fit >= len(text):
        return text, None
    if fit == 0:
        return None, text
    window = text[: fit + 1]
    cut = window.rfind("\n")
    if cut <= 0:
        cut = window.rfind(" ")
    if cut <= 0:
        cut = fit
    head, tail = text[:cut], text[cut:]
    tail = tail[1:] if tail[:1] in ("\n", " ") else tail
    return (head or None), (tail or None)


def _cut(node: Node, budget: int) -> tuple[Node | None, Node | None]:
    """Split one node so the head fits `budget`; (None, node) when nothing fits."""
    if budget <= 0:
        return None, node
    if isinstance(node, str):
        return _cut_str(node, budget)
    if isinstance(node, Bold | Italic):
        inner = split_nodes(node.children, budget)
        if not inner or visible_length(inner[0]) > budget:
            return None, node
        kind = type(node)
        head_children = inner[0]
        rest = tuple(n for chunk in inner[1:] for n in chunk)
        return kind(head_children), (kind(rest) if rest else None)
    if isinstance(node, Items):
        taken: list[tuple[Node, ...]] = []
        used = 0
        for item in node.items:
            size = _u16(BULLET) + visible_length(item) + (1 if taken else 0)
            if used + size > budget:
                break
            taken.append(item)
            used += size
        if not taken:
            if budget < _u16(BULLET) + 1:
                return None, node
            # One item longer than the budget: cut inside it.
            parts = split_nodes(node.items[0], budget - _u16(BULLET))
            head = Items((parts[0],))
            rest_nodes = tuple(n for chunk in parts[1:] for n in chunk)
            remaining = ((rest_nodes,) if rest_nodes else ()) + node.items[1:]
            return head, (Items(remaining) if remaining else None)
        rest_items = node.items[len(taken) :]
        return Items(tuple(taken)), (Items(rest_items) if rest_items else None)
    return None, node  # Link, Mention: atomic


def _hard_cut(node: Node, limit: int) -> tuple[Node, Node | None]:
    """An atomic node longer than a whole message: degrade it to plain text and cut."""
    if isinstance(node, Link):
        plain = node.url if node.label == node.url else f"{node.label} ({node.url})"
    elif isinstance(node, Mention):
        plain = node.name
    else:
        plain = str(node)
    head, tail = _cut_str(plain, limit)
    return (head or plain[:limit]), tail
