"""Members as owners name them in commands: a display name (any case, with or without
@), a mention or an account id. One place, so that every command finds members alike
and says alike when none or several are called so."""

from __future__ import annotations

import re

from bot.context import Context
from bot.i18n import N_
from bot.markup import Text
from storage.models import Member

# A Discord mention as a slash command's text option receives it.
_MENTION = re.compile(r"^<@!?(\d+)>$")


async def named_member(
    ctx: Context, reference: str, *, or_else: Text | None = None
) -> Member | None:
    """The one member of the context's community that `reference` names. When none or
    several are, the owner is told so (and, when none is, `or_else`) and None returned."""
    community = ctx.community
    if community is None:
        return None
    raw = reference.strip()
    mention = _MENTION.match(raw)
    name = mention.group(1) if mention else raw.lstrip("@").strip()
    if mention or name.isdigit():  # an account id: the member behind it
        for ref in ctx.services.directory.by_id.values():
            if ref.community_id == community.id and any(a.user_id == name for a in ref.accounts):
                return await ctx.uow.members.get(ref.id)
    matches = await ctx.uow.members.by_name(community.id, name)
    if len(matches) == 1:
        return matches[0]
    if matches:
        ctx.reply(
            ctx._(
                N_(
                    "Several members are called {name}; ask them to change their display name first."
                ),
                name=name,
            ),
            private=True,
        )
        return None
    said = ctx._(N_("No member is called {name}."), name=name)
    ctx.reply(said + "\n" + or_else if or_else is not None else said, private=True)
    return None
