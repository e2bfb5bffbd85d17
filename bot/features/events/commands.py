"""The command trees: `/event ...` (owners and moderators create and manage; members
get a date's `.ics` and choose reminders) and `/events` (members: what is coming)."""

from __future__ import annotations

from bot.commands import ON_OFF, CommandSpec, OptionSpec, Permission
from bot.feature import Router
from bot.features.events.manage import EDITABLE, EDITABLE_NAMES, SCOPE_NAMES, SCOPES
from bot.i18n import N_

router = Router()

MOD = Permission.MODERATOR
NUMBER = OptionSpec("number", N_("The event's number"), "integer", minimum=1, maximum=2**31 - 1)
SCOPE = OptionSpec(
    "scope",
    N_("one (this date) or series (this and the later dates)"),
    "choice",
    required=False,
    choices=SCOPES,
    names=SCOPE_NAMES,
)

router.command(
    CommandSpec(
        "event",
        N_("Community events: create, change, answer"),
        subcommands=(
            CommandSpec(
                "create",
                N_(
                    "Create an event: TITLE | START | DURATION | PLACE | CAPACITY | DESCRIPTION | REPEAT"
                ),
                options=(
                    OptionSpec("title", N_("The title (or every field, separated by |)"), "text"),
                    OptionSpec(
                        "start",
                        N_("When, as you would say it: Thursday 19:00"),
                        "text",
                        required=False,
                    ),
                    OptionSpec(
                        "duration", N_("How long: 90m, 2h (2h if left out)"), required=False
                    ),
                    OptionSpec("place", N_("Where: a place or a link"), "text", required=False),
                    OptionSpec("capacity", N_("How many seats (none: no limit)"), required=False),
                    OptionSpec("description", N_("What it is about"), "text", required=False),
                    OptionSpec(
                        "repeat",
                        N_(
                            "Repeat: weekly 10, biweekly until 1.6.2027, monthly 6, monthly-weekday 6"
                        ),
                        "text",
                        required=False,
                    ),
                ),
                permission=MOD,
            ),
            CommandSpec(
                "cancel",
                N_("Cancel one date, or it and the later dates of its series"),
                options=(
                    NUMBER,
                    SCOPE,
                ),
                permission=MOD,
            ),
            CommandSpec(
                "edit",
                N_("Change the start, place, title or capacity of one date or the series"),
                options=(
                    NUMBER,
                    SCOPE,
                    OptionSpec(
                        "field",
                        N_("What to change"),
                        "choice",
                        choices=EDITABLE,
                        names=EDITABLE_NAMES,
                    ),
                    OptionSpec("value", N_("The new value"), "text"),
                ),
                permission=MOD,
            ),
            CommandSpec(
                "attendees",
                N_("Who is going, waiting, maybe or not"),
                options=(NUMBER,),
                permission=MOD,
            ),
            CommandSpec(
                "add",
                N_("Put a member on the list (the waitlist when full)"),
                options=(
                    NUMBER,
                    OptionSpec("member", N_("The member: a mention or a name"), "text"),
                ),
                permission=MOD,
            ),
            CommandSpec(
                "remove",
                N_("Take a member off the list"),
                options=(
                    NUMBER,
                    OptionSpec("member", N_("The member: a mention or a name"), "text"),
                ),
                permission=MOD,
            ),
            # /events again, where owners look for it beside create and edit.
            CommandSpec("list", N_("The coming events and your answers")),
            CommandSpec("ics", N_("The event as a calendar file"), options=(NUMBER,)),
            CommandSpec(
                "feed",
                N_("The calendar feed address of the community's events"),
                options=(
                    OptionSpec(
                        "action",
                        N_("Make a new address; the old one stops working"),
                        "choice",
                        required=False,
                        choices=("reset",),
                    ),
                ),
                permission=Permission.OWNER,
            ),
            CommandSpec(
                "reminders",
                N_("Reminders before events you go to: on or off"),
                options=(
                    OptionSpec(
                        "state",
                        N_("Whether you are reminded"),
                        "choice",
                        choices=("on", "off"),
                        names=ON_OFF,
                    ),
                ),
            ),
        ),
    )
)
router.command(CommandSpec("events", N_("The coming events and your answers")))
