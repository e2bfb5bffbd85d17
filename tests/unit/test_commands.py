"""Command parsing: what a member types becomes typed values, or a usage error."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.commands import CommandSpec, OptionSpec, Permission, UsageError, parse_duration, resolve

CONFIG = CommandSpec(
    "config",
    "Settings",
    permission=Permission.OWNER,
    subcommands=(
        CommandSpec("show", "Show"),
        CommandSpec(
            "set", "Set", options=(OptionSpec("key", "Key"), OptionSpec("value", "Value", "text"))
        ),
    ),
)
REMIND = CommandSpec(
    "remind",
    "Remind",
    options=(
        OptionSpec("after", "After", "duration"),
        OptionSpec("times", "Times", "integer", required=False),
        OptionSpec("loud", "Loud", "boolean", required=False),
    ),
)


def test_subcommand_and_free_text_rest() -> None:
    parsed = resolve(CONFIG, ("set", "onboarding.welcome", "Hello", "{member},", "welcome!"))
    assert parsed.path == "config set"
    assert parsed.values == {"key": "onboarding.welcome", "value": "Hello {member}, welcome!"}


def test_discord_style_named_options_give_the_same_values() -> None:
    parsed = resolve(CONFIG, ("set",), {"key": "locale", "value": "he"})
    assert parsed.values == {"key": "locale", "value": "he"}


def test_a_named_option_left_out_is_not_filled_from_the_next_one() -> None:
    """Discord sends the given options by name and as values in order: `loud` given,
    `times` left out, must not make `times` read the value meant for `loud`."""
    parsed = resolve(REMIND, ("2h", "on"), {"after": "2h", "loud": "on"})
    assert parsed.values == {"after": timedelta(hours=2), "times": None, "loud": True}


def test_typed_options_are_converted() -> None:
    parsed = resolve(REMIND, ("2h", "3", "on"))
    assert parsed.values == {"after": timedelta(hours=2), "times": 3, "loud": True}
    assert resolve(REMIND, ("1w",)).values == {
        "after": timedelta(weeks=1),
        "times": None,
        "loud": None,
    }


@pytest.mark.parametrize(
    "args",
    [
        (),  # missing subcommand
        ("explode",),  # unknown subcommand
        ("set",),  # missing key
        ("set", "locale"),  # missing value
    ],
)
def test_bad_config_arguments_raise_usage_errors(args: tuple[str, ...]) -> None:
    with pytest.raises(UsageError):
        resolve(CONFIG, args)


@pytest.mark.parametrize(
    "args", [("soon",), ("2h", "many"), ("2h", "3", "maybe"), ("2h", "3", "on", "extra")]
)
def test_bad_typed_arguments_raise_usage_errors(args: tuple[str, ...]) -> None:
    with pytest.raises(UsageError) as info:
        resolve(REMIND, args)
    assert info.value.path == "remind"


def test_usage_shows_options_and_choices() -> None:
    spec = CommandSpec(
        "staff",
        "",
        options=(
            OptionSpec("role", "", "choice", choices=("owner", "member")),
            OptionSpec("who", "", required=False),
        ),
    )
    assert spec.usage() == "/staff owner|member [WHO]"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("3d", timedelta(days=3)),
        (" 2H ", timedelta(hours=2)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_a_malformed_duration_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_duration("3 days")
