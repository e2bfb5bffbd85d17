"""What a running Kehila holds: passed to feature hooks and every handler context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from bot.clock import Clock
from bot.config import Config
from bot.delivery import Delivery
from bot.directory import Directory
from bot.metrics import Metrics
from bot.outage import Outage
from bot.outbox import Outbox
from bot.ports import Adapter
from bot.schedule import Timer
from bot.sync import Sync
from storage.database import Database

if TYPE_CHECKING:
    from bot.feature import Feature

S = TypeVar("S")


@dataclass
class Services:
    config: Config
    clock: Clock
    db: Database
    directory: Directory
    timer: Timer
    features: list[Feature]
    adapters: dict[str, Adapter] = field(default_factory=dict)
    instance_id: str = "kehila"
    # Each feature's in-memory state, by its type: built once by the feature's
    # `states` factories, reached with `state(Type)` (typed, no string keys).
    states: dict[type, object] = field(default_factory=dict)

    def build_states(self) -> None:
        for feature in self.features:
            for build in feature.states:
                value = build(self)
                if type(value) in self.states:
                    raise ValueError(f"two features keep state of type {type(value).__name__}")
                self.states[type(value)] = value

    def state(self, kind: type[S]) -> S:
        """The state a feature keeps, by its type (several times a message: no
        isinstance check, `build_states` keys each state by its own type)."""
        return self.states[kind]  # type: ignore[return-value]

    # Performs actions on their adapter with the degradation rules (bot/delivery.py).
    delivery: Delivery = field(init=False, repr=False)

    # A database outage: retries, and what could not be recorded (bot/outage.py).
    outage: Outage = field(init=False, repr=False)

    # The delivery queue's worker: sends what handlers queued (bot/outbox.py).
    outbox: Outbox = field(init=False, repr=False)
    # What it counts, for /metrics (bot/metrics.py).
    metrics: Metrics = field(init=False, repr=False)

    # Other processes on the same PostgreSQL: announcing and applying (bot/sync.py).
    sync: Sync = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.metrics = Metrics()
        self.delivery = Delivery(self)
        self.outage = Outage(self.config.database.retry_for_s)
        self.outbox = Outbox(self)
        self.sync = Sync(self)
