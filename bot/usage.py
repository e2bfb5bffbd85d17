"""What a person is told when a command's words do not fit: what did not fit, then
the command's usage, in the community's language (the dispatcher's answer to a
`UsageError`)."""

from __future__ import annotations

from difflib import get_close_matches

from babel.lists import format_list

from bot.commands import CommandSpec, UsageError
from bot.context import Context
from bot.i18n import N_
from bot.markup import Text


def misfit(ctx: Context, exc: UsageError) -> Text:
    """What did not fit, on a line before the usage (nothing when a word is
    missing: the usage says it)."""
    if not exc.reason:
        return Text.of()
    close = (
        get_close_matches(exc.reason.lower(), [s.name for s in exc.spec.subcommands], n=1)
        if exc.option is None
        else []
    )
    if close:  # "/event creat"
        said = ctx._(
            N_("There is no /{path} {value}. Did you mean /{path} {close}?"),
            path=exc.path,
            value=exc.reason[:40],
            close=close[0],
        )
    elif exc.option is None:
        said = ctx._(N_("I did not understand {value}."), value=exc.reason[:40])
    elif exc.option.type == "choice":  # its label is the choices: name them once
        said = ctx._(
            N_("{value} is not a choice here: write {choices}."),
            value=exc.reason[:40],
            choices=format_list(list(exc.option.choices), style="or", locale=ctx.locale),
        )
    else:
        said = ctx._(
            N_("{value} does not fit {option}: {meaning}."),
            value=exc.reason[:40],
            option=exc.option.shown(ctx.gettext),
            meaning=ctx.gettext(exc.option.description),
        )
    return said + "\n"


def usage(ctx: Context, spec: CommandSpec, path: str) -> Text:
    """A command's usage: its forms (or its subcommands') with what each word means."""
    if spec.subcommands:
        lines = [
            f"/{path} {spec.usage_of(sub, ctx.gettext)}  — {ctx.gettext(sub.description)}"
            for sub in spec.subcommands
        ]
    else:
        head = path.rsplit(" ", 1)[0] + " " if " " in path else ""
        form = spec.usage(prefix="", translate=ctx.gettext)
        lines = [f"/{head}{form}  — {ctx.gettext(spec.description)}"]
        lines += [f"  {o.shown(ctx.gettext)}: {ctx.gettext(o.description)}" for o in spec.options]
    return ctx._(N_("Usage:")) + "\n" + "\n".join(lines)
