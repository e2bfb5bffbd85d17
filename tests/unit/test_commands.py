"""Command parsing: what a member types becomes typed values, or a usage error."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.commands import (
    CommandSpec,
    DuplicateCommand,
    OptionSpec,
    Permission,
    UsageError,
    merged_commands,
    parse_duration,
    resolve,
)

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


EDIT = CommandSpec(
    "edit",
    "Edit",
    options=(
        OptionSpec("number", "Number", "integer"),
        OptionSpec("scope", "Scope", "choice", required=False, choices=("one", "series")),
        OptionSpec("field", "Field", "choice", choices=("title", "place")),
        OptionSpec("value", "Value", "text"),
    ),
)


def test_an_optional_choice_between_options_may_be_left_out() -> None:
    typed = resolve(EDIT, ("3", "title", "Chess", "night")).values
    assert typed == {"number": 3, "scope": None, "field": "title", "value": "Chess night"}
    typed = resolve(EDIT, ("3", "Series", "place", "Home")).values
    assert typed == {"number": 3, "scope": "series", "field": "place", "value": "Home"}
    with pytest.raises(UsageError) as wrong:  # neither a scope nor a field
        resolve(EDIT, ("3", "colour", "red"))
    assert wrong.value.option is not None and wrong.value.option.name == "field"


def test_a_word_too_many_is_still_refused() -> None:
    with pytest.raises(UsageError) as wrong:
        resolve(REMIND, ("2h", "3", "on", "please"))
    assert wrong.value.reason == "please" and wrong.value.option is None


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


# --- groups several features declare, and a group's default subcommand ---------------

OWNER = Permission.OWNER
ACTIVITY = CommandSpec(
    "export",
    "Download",
    permission=OWNER,
    subcommands=(
        CommandSpec(
            "activity",
            "Activity",
            options=(OptionSpec("weeks", "Weeks", "integer", required=False),),
            permission=OWNER,
        ),
    ),
)
REFERRALS_CSV = CommandSpec(
    "export",
    "Export (the second feature's words)",
    permission=OWNER,
    subcommands=(CommandSpec("referrals", "Referrals", permission=OWNER),),
)
CHAINS = CommandSpec(
    "referrals",
    "Who brought whom",
    permission=OWNER,
    default="show",
    subcommands=(
        CommandSpec("show", "Show", options=(OptionSpec("member", "Member", "text"),)),
        CommandSpec("undecided", "Undecided"),
        CommandSpec(
            "credit", "Credit", options=(OptionSpec("newcomer", "N"), OptionSpec("inviter", "I"))
        ),
    ),
)


def test_groups_of_one_name_from_two_features_become_one() -> None:
    help_ = CommandSpec("help", "Help")
    merged = merged_commands([help_, ACTIVITY, CHAINS, REFERRALS_CSV])
    assert [s.name for s in merged] == ["help", "export", "referrals"]
    export = merged[1]
    assert [s.name for s in export.subcommands] == ["activity", "referrals"]
    assert export.description == "Download"  # the first declaration's
    assert resolve(export, ("referrals",)).path == "export referrals"
    assert resolve(export, ("activity", "4")).values == {"weeks": 4}


def test_a_merged_group_is_open_to_the_lowest_declaration_and_no_further() -> None:
    mine = CommandSpec(
        "export", "Mine", subcommands=(CommandSpec("mine", "My data"),)
    )  # members may export their own data
    export = merged_commands([ACTIVITY, mine])[0]
    assert export.permission == Permission.MEMBER
    levels = {s.name: s.permission for s in export.subcommands}
    assert levels == {"activity": OWNER, "mine": Permission.MEMBER}
    # A subcommand left at MEMBER under an owners' group stays for owners when merged.
    sloppy = CommandSpec("export", "x", permission=OWNER, subcommands=(CommandSpec("all", "All"),))
    levels = {s.name: s.permission for s in merged_commands([mine, sloppy])[0].subcommands}
    assert levels == {"mine": Permission.MEMBER, "all": OWNER}


@pytest.mark.parametrize(
    "second",
    [
        # the same leaf path twice
        CommandSpec("export", "x", subcommands=(CommandSpec("activity", "Again"),)),
        # a same-name command that is not a group
        CommandSpec("export", "x", options=(OptionSpec("what", "What"),)),
    ],
)
def test_a_command_that_cannot_be_merged_is_refused(second: CommandSpec) -> None:
    with pytest.raises(DuplicateCommand, match="/export"):
        merged_commands([ACTIVITY, second])


def test_a_word_that_names_no_subcommand_goes_to_the_default() -> None:
    parsed = resolve(CHAINS, ("yossi", "cohen"))
    assert (parsed.path, parsed.values) == ("referrals show", {"member": "yossi cohen"})
    assert resolve(CHAINS, ("Undecided",)).path == "referrals undecided"  # still itself
    assert resolve(CHAINS, ("show", "undecided")).values == {"member": "undecided"}
    # Discord names the subcommand and its options: the same values.
    assert resolve(CHAINS, ("show",), {"member": "yossi"}).values == {"member": "yossi"}


def test_no_words_is_still_the_groups_usage_and_a_default_shows_as_optional() -> None:
    with pytest.raises(UsageError) as info:
        resolve(CHAINS, ())
    assert (info.value.spec, info.value.reason) == (CHAINS, "")
    with pytest.raises(UsageError) as info:
        resolve(CHAINS, ("credit", "dana"))  # a named subcommand's words still checked
    assert info.value.path == "referrals credit"
    assert [CHAINS.usage_of(s) for s in CHAINS.subcommands] == [
        "[show] MEMBER",
        "undecided",
        "credit NEWCOMER INVITER",
    ]


def test_a_default_that_is_no_subcommand_is_refused_when_declared() -> None:
    with pytest.raises(ValueError, match="default"):
        CommandSpec("referrals", "x", default="shwo", subcommands=(CommandSpec("show", "s"),))


@pytest.mark.parametrize(
    "text,expected",
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("3d", timedelta(days=3)),
        (" 2H ", timedelta(hours=2)),
        # As the three languages write them (Babel's unit names).
        ("3 days", timedelta(days=3)),
        ("1 hour", timedelta(hours=1)),
        ("90 Minuten", timedelta(minutes=90)),
        ("3 Std.", timedelta(hours=3)),
        ("1 Woche", timedelta(weeks=1)),
        ("3 שעות", timedelta(hours=3)),
        ("שעתיים", timedelta(hours=2)),
        ("יומיים", timedelta(days=2)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["3 Äpfel", "Stunden", "2 minutes ago", "3", "h", ""])
def test_a_malformed_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
