"""The referrals `Feature`, built by `setup()`: listed in `bot/features/__init__.py`."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.referrals import (
    ambassadors,
    chains,
    digest,
    join_requests,
    joins,
    links,
    qualifying,
)
from bot.features.referrals.joins import JoinMemory
from bot.features.referrals.privacy import export, forget, merge
from bot.features.referrals.qualifying import Qualifying
from bot.features.referrals.settings import SETTINGS
from bot.features.referrals.watch import Watch, load
from storage.referrals import ReferralsRepo


def setup() -> Feature:
    feature = Feature(
        "referrals",
        delete_member_data=forget,
        merge_member_data=merge,
        export_member_data=export,
        states=(
            lambda services: Qualifying(),
            lambda services: JoinMemory(),
            lambda services: Watch(),
            lambda services: links.Told(),
        ),
        repositories=(ReferralsRepo,),
    )
    for setting in SETTINGS:
        feature.setting(setting)
    feature.on_startup(load)
    return feature.include(
        joins.router,
        qualifying.router,
        links.router,
        chains.router,
        ambassadors.router,
        join_requests.router,
        digest.router,
    )
