"""What onboarding says: the owner's texts (or the translated defaults) with their
placeholders filled in, and the private welcome with its accept button."""

from __future__ import annotations

from bot.actions import Button
from bot.context import Context
from bot.directory import MemberRef
from bot.features.onboarding.runtime import PREFIX
from bot.features.onboarding.settings import DEFAULTS
from bot.features.onboarding.templates import fill
from bot.i18n import N_
from bot.markup import Mention, Text, Value


def _template(ctx: Context, name: str) -> str:
    custom = ctx.setting(f"onboarding.{name}")
    return str(custom) if custom else ctx.gettext(DEFAULTS[name])


def template_values(ctx: Context, member: MemberRef, inviter: str | None) -> dict[str, Value]:
    assert ctx.community is not None
    values: dict[str, Value] = {
        "member": Mention(member.user_id, member.display_name),
        "community": ctx.community.name,
        "inviter": inviter or ctx.gettext(N_("a friend")),
    }
    values["rules"] = fill(_template(ctx, "rules"), values)
    return values


def render(ctx: Context, name: str, member: MemberRef, inviter: str | None = None) -> Text:
    return fill(_template(ctx, name), template_values(ctx, member, inviter))


def accept_button(ctx: Context, community_id: int) -> Button:
    return Button(ctx.gettext(N_("I accept")), f"{PREFIX}:acc:{community_id}", "primary")


def private_welcome(
    ctx: Context, member: MemberRef, inviter: str | None = None, *, bulk: bool = False
) -> None:
    """`bulk`: through the outbox, paced (the welcomes a join surge held back)."""
    assert ctx.community is not None
    ctx.direct(
        member,
        render(ctx, "dm", member, inviter),
        buttons=[accept_button(ctx, ctx.community.id)],
        start_payload=f"{PREFIX}{ctx.community.id}",
        bulk=bulk,
    )
