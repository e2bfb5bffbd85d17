"""The onboarding `Feature`: created here, with its privacy hooks, settings and the
start-up load; the other modules register their handlers on it when imported (see
`__init__.py` for the order)."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.onboarding.privacy import export, forget
from bot.features.onboarding.runtime import load
from bot.features.onboarding.settings import SETTINGS

feature = Feature("onboarding", delete_member_data=forget, export_member_data=export)
for _setting in SETTINGS:
    feature.setting(_setting)
feature.on_startup(load)
