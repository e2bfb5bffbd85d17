"""Owner templates: named placeholders, checked when set and filled when sent."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.markup import Text, Value, format_text

PLACEHOLDER = re.compile(r"\{(\w+)\}")

# Which placeholders each template may use.
ALLOWED: dict[str, tuple[str, ...]] = {
    "welcome": ("member", "community", "rules", "inviter"),
    "dm": ("member", "community", "rules", "inviter"),
    "rules": ("member", "community", "inviter"),
    "nudge": ("member", "community"),
}


def unknown_placeholders(template: str, allowed: tuple[str, ...]) -> list[str]:
    """Placeholders in `template` that are not in `allowed`, in order of appearance."""
    seen: list[str] = []
    for name in PLACEHOLDER.findall(template):
        if name not in allowed and name not in seen:
            seen.append(name)
    return seen


def checker(kind: str) -> Callable[[Any], None]:
    """A `Setting.check` refusing unknown placeholders (for /config set)."""

    def check(value: Any) -> None:
        if isinstance(value, str) and unknown_placeholders(value, ALLOWED[kind]):
            raise ValueError(value)

    return check


def fill(template: str, values: dict[str, Value]) -> Text:
    """Fill a template; an unknown placeholder (a value stored around the checks) is
    shown as written instead of failing the welcome."""
    filled = dict(values)
    for name in PLACEHOLDER.findall(template):
        filled.setdefault(name, "{" + name + "}")
    return format_text(template, filled)
