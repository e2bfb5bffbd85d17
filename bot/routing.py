"""The dispatcher's table: what each feature handles, observes, answers and runs,
gathered once at start from the features' declarations (`Feature`), in feature order.

Checked as it is built: a command leaf without its handler, a button prefix declared
twice, or a command leaf declared by two features fails the start."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.commands import CommandSpec, merged_commands
from bot.events import Event
from bot.feature import CommandHandler, EventHandler, Feature, HandlerFilter, Observer, leaf_paths
from bot.focus import FOCUS

# A handler of an event type: its feature, the handler, its in-memory filter.
Route = tuple[str, EventHandler, HandlerFilter | None]


class Routing:
    def __init__(self, features: Sequence[Feature]) -> None:
        self.routes: dict[type[Event], list[Route]] = {}
        self.observers: dict[type[Event], list[tuple[str, Observer]]] = {}
        self.command_handlers: dict[str, CommandHandler] = {}
        self.buttons: dict[str, tuple[str, Any]] = {}
        # Button prefixes whose press makes its presser a member on first sight (an
        # RSVP): a deliberate act, unlike pressing an old button after /forgetme.
        self.recording_buttons: set[str] = set()
        self.choices: set[str] = set()
        self.jobs: dict[str, tuple[str, Any]] = {}
        self.claim_last: set[str] = set()
        for feature in features:
            self._register(feature)
        # Groups several features declare (`/export`) are one command here, as
        # everywhere commands are listed; a leaf declared twice fails the start.
        declared = merged_commands(spec for feature in features for spec in feature.commands)
        self.commands: dict[str, CommandSpec] = {spec.name: spec for spec in declared}
        # Handlers declared `late` run after the others of their event, in feature
        # order, in one unit of work (`Dispatcher.run_late`).
        late = {h for feature in features for h in feature.late}
        self.late_routes: dict[type[Event], list[Route]] = {}
        for event_type, routes in self.routes.items():
            self.late_routes[event_type] = [r for r in routes if r[1] in late]
            routes[:] = [r for r in routes if r[1] not in late]

    def _register(self, feature: Feature) -> None:
        for event_type, handlers in feature.handlers.items():
            self.routes.setdefault(event_type, []).extend(
                (feature.name, h, feature.filters.get(h)) for h in handlers
            )
        for event_type, observers in feature.observers.items():
            self.observers.setdefault(event_type, []).extend((feature.name, o) for o in observers)
        for spec in feature.commands:
            for path in leaf_paths(spec):
                if path not in feature.command_handlers:
                    raise ValueError(f"/{path} of {feature.name} has no handler")
        self.command_handlers.update(feature.command_handlers)
        for prefix, on_button in feature.buttons.items():
            if prefix in self.buttons or prefix == FOCUS:  # FOCUS: the dispatcher's own
                raise ValueError(f"button prefix {prefix} declared twice")
            self.buttons[prefix] = (feature.name, on_button)
        self.recording_buttons |= feature.recording_buttons
        self.choices |= feature.choices
        for name, on_job in feature.jobs.items():
            self.jobs[name] = (feature.name, on_job)
        self.claim_last |= feature.claim_last
