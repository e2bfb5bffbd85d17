"""Community events: create with a confirmation, RSVPs with a waitlist, reminders,
repeats, calendar files. `setup()` is the entry point (bot/features/__init__.py);
docs/EVENTS.md describes it for owners."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.events import (
    calendar,
    commands,
    create,
    digest,
    manage,
    mirror,
    reminders,
    rsvp,
)
from bot.features.events.privacy import export, forget, merge
from storage.events import EventsRepo


def setup() -> Feature:
    feature = Feature(
        "events",
        delete_member_data=forget,
        merge_member_data=merge,
        export_member_data=export,
        repositories=(EventsRepo,),
    )
    return feature.include(
        commands.router,
        create.router,
        rsvp.router,
        manage.router,
        reminders.router,
        mirror.router,
        digest.router,
        calendar.router,
    )
