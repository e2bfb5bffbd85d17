"""What owners are told about their settings and storage without asking: the
settings found invalid at start, and what a database outage could not record."""

from __future__ import annotations

from bot.context import Context
from bot.events import SettingsRejected, StorageRecovered
from bot.feature import Router
from bot.i18n import N_, Nn_, moment, ngettext, number, translate
from bot.markup import Text

router = Router()

# What an outage could not record, by kind of event, as owners read it.
LOST_KINDS: dict[str, tuple[str, str]] = {
    "MessagePosted": Nn_("{n} message", "{n} messages"),
    "ReactionAdded": Nn_("{n} reaction", "{n} reactions"),
    "CommandInvoked": Nn_("{n} command", "{n} commands"),
    "ButtonPressed": Nn_("{n} button press", "{n} button presses"),
    "MemberJoined": Nn_("{n} join", "{n} joins"),
    "MemberLeft": Nn_("{n} departure", "{n} departures"),
    "JobFired": Nn_("{n} scheduled task", "{n} scheduled tasks"),
}
OTHER_KIND = Nn_("{n} other event", "{n} other events")


@router.on(StorageRecovered)
async def storage_recovered(ctx: Context, event: StorageRecovered) -> None:
    """After a database outage the owners hear once what happened and what was lost."""
    community = ctx.community
    if community is None:
        return

    def notice(locale: str) -> Text:
        since = moment(locale, event.since, community.timezone)
        until = moment(locale, event.at, community.timezone)
        if not event.lost:
            return translate(
                locale,
                N_(
                    "Kehila could not reach its database from {since} to {until}. It kept trying, and everything that happened meanwhile was recorded."
                ),
                since=since,
                until=until,
            )
        counts: dict[tuple[str, str], int] = {}
        for kind, n in event.lost:
            forms = LOST_KINDS.get(kind, OTHER_KIND)
            counts[forms] = counts.get(forms, 0) + n
        lost = ", ".join(
            ngettext(locale, one, many, n).replace("{n}", number(locale, n))
            for (one, many), n in counts.items()
        )
        return translate(
            locale,
            N_(
                "Kehila could not reach its database from {since} to {until}. It kept trying, but could not record: {lost}. Members who used a command then were asked to try again."
            ),
            since=since,
            until=until,
            lost=lost,
        )

    ctx.tell_owners(notice)


@router.on(SettingsRejected)
async def settings_rejected(ctx: Context, event: SettingsRejected) -> None:
    """Stored values refused at start: the owners hear which, once, and how to fix them."""
    community = ctx.community
    if community is None:
        return
    keys = ", ".join(event.keys)
    ctx.tell_owners(
        lambda locale: translate(
            locale,
            N_(
                "Some settings of {community} were not valid, so their defaults are in use now: {keys}. See /config show, and set them again with /config set."
            ),
            community=community.name,
            keys=keys,
        )
    )
