"""The onboarding `Feature`, built by `setup()`: the entry point listed in
`bot/features/__init__.py`."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.onboarding import (
    commands,
    funnel,
    gate,
    joining,
    nudge,
    question_commands,
    questions,
    surge,
)
from bot.features.onboarding.privacy import export, forget, merge
from bot.features.onboarding.runtime import Runtime, load
from bot.features.onboarding.settings import SETTINGS
from storage.onboarding import OnboardingRepo


def setup() -> Feature:
    feature = Feature(
        "onboarding",
        delete_member_data=forget,
        merge_member_data=merge,
        export_member_data=export,
        states=(lambda services: Runtime(),),
        repositories=(OnboardingRepo,),
    )
    for setting in SETTINGS:
        feature.setting(setting)
    feature.on_startup(load)
    # The handlers of one event run in this order: `joining` decides the welcome
    # (`on_join`) before it records it (`on_join_record`).
    return feature.include(
        gate.router,
        surge.router,
        questions.router,
        joining.router,
        nudge.router,
        commands.router,
        question_commands.router,
        funnel.router,
    )
