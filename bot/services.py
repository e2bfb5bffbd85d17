"""What a running Kehila holds: passed to feature hooks and every handler context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.clock import Clock
from bot.config import Config
from bot.delivery import Delivery
from bot.directory import Directory
from bot.ports import Adapter
from bot.schedule import Timer
from storage.database import Database

if TYPE_CHECKING:
    from bot.feature import Feature


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
    # Feature-owned runtime state (e.g. the engagement buffer), by feature name.
    state: dict[str, Any] = field(default_factory=dict)
    # Performs actions on their adapter with the degradation rules (bot/delivery.py).
    delivery: Delivery = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.delivery = Delivery(self)
