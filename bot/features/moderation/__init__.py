"""Moderation: what needs a human's eye, told to the moderators once, with the buttons
to act (docs/MODERATION.md).

- `surge.py`: join surges, published as `SurgeStarted`/`SurgeEnded` for the features
  that react (onboarding pauses its welcomes), and raids (young accounts, invites);
- `hot.py`: the message detectors on the hot path (floods, watched words, questions),
  memory only; `matcher.py`: the watched-words matcher; `watchlist.py`: `/watch`;
- `reports.py`: `/report`; `questions.py`: questions nobody answered;
- `alerts.py`: incidents, their alerts, buttons, log, hourly cap, `/incidents`;
- `presses.py`: an alert's buttons pressed (who may, what each does, the log);
- `retention.py`: incidents deleted after `moderation.retention`;
- `status.py`: `/moderation status`; `settings.py`; `privacy.py`.

`setup()` is the entry point."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.moderation import (
    alerts,
    hot,
    presses,
    questions,
    reports,
    retention,
    settings,
    status,
    surge,
    watchlist,
)
from bot.features.moderation.hot import Watch
from bot.features.moderation.privacy import (
    delete_member_data,
    export_member_data,
    merge_member_data,
)
from bot.features.moderation.surge import SurgeWatch
from storage.moderation import ModerationRepo


def setup() -> Feature:
    feature = Feature(
        "moderation",
        delete_member_data=delete_member_data,
        merge_member_data=merge_member_data,
        export_member_data=export_member_data,
        states=(lambda services: SurgeWatch(), lambda services: Watch()),
        repositories=(ModerationRepo,),
    )
    feature.on_startup(watchlist.load)
    return feature.include(
        settings.router,
        surge.router,
        hot.router,
        alerts.router,
        presses.router,
        watchlist.router,
        reports.router,
        questions.router,
        retention.router,
        status.router,
    )


__all__ = ["SurgeWatch", "Watch", "setup"]
