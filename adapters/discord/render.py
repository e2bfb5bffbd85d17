"""The neutral markup (`bot.markup`) rendered as Discord markdown.

Plain strings are member-supplied or translated text: they are escaped so that a
member's `**`, `# heading`, `[masked](link)` or `<@id>` shows as typed. Only markup
nodes produce formatting. Mentions become `<@id>`; the allowed-mentions of every
message lists exactly those users, so escaped text can never ping anyone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import discord

from bot.markup import Bold, Italic, Items, Link, Mention, Node, Text, split_rendered

MAX_TEXT_LENGTH = 2000

# Discord markup that escape_markdown leaves alone: headings, block quotes and
# subtext at the start of a line, and `<@id>`, `<#id>`, `<@&id>`, `</cmd:id>`, `<t:…>`.
_LINE_START = re.compile(r"(?m)^(\s*)(#{1,3}\s|>|-#\s)")
_ANGLE = re.compile(r"<(?=[@#/]|t:-?\d|a?:\w+:\d)")


def escape(text: str) -> str:
    """Escape member-supplied text so Discord shows it as typed."""
    out = discord.utils.escape_markdown(text)
    out = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), out)
    out = _ANGLE.sub(r"\\<", out)
    return discord.utils.escape_mentions(out)


@dataclass(frozen=True, slots=True)
class Rendered:
    chunks: tuple[str, ...]
    mentions: tuple[int, ...]

    @property
    def allowed_mentions(self) -> discord.AllowedMentions:
        return discord.AllowedMentions(
            everyone=False,
            roles=False,
            replied_user=False,
            users=[discord.Object(id=u) for u in self.mentions],
        )


def _render(nodes: Iterable[Node], mentions: list[int]) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(escape(node))
        elif isinstance(node, Bold):
            inner = _render(node.children, mentions)
            out.append(f"**{inner}**" if inner.strip() else inner)
        elif isinstance(node, Italic):
            inner = _render(node.children, mentions)
            out.append(f"*{inner}*" if inner.strip() else inner)
        elif isinstance(node, Link):
            url = node.url.replace(")", "%29").replace(" ", "%20")
            if not node.label or node.label == node.url:
                out.append(f"<{url}>" if url.startswith(("http://", "https://")) else url)
            else:
                out.append(f"[{escape(node.label)}]({url})")
        elif isinstance(node, Mention):
            if node.user_id.isdigit():
                mentions.append(int(node.user_id))
                out.append(f"<@{node.user_id}>")
            else:
                out.append(escape("@" + node.name))
        elif isinstance(node, Items):
            if out and not out[-1].endswith("\n"):
                out.append("\n")
            out.append("\n".join("- " + _render(item, mentions) for item in node.items))
    return "".join(out)


def render(text: Text | str, limit: int = MAX_TEXT_LENGTH) -> Rendered:
    """Render and split under Discord's 2,000-character limit (at line breaks if possible)."""
    nodes: tuple[Node, ...] = (text,) if isinstance(text, str) else text.nodes
    mentions: list[int] = []
    body = _render(nodes, mentions)
    chunks = tuple(c for c in split_rendered(body, limit) if c) if body else ()
    return Rendered(chunks=chunks, mentions=tuple(dict.fromkeys(mentions)))
