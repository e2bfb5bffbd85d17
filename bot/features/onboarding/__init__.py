"""Onboarding: welcome, rules and the verification gate, questions, the first-message
nudge and the join funnel. See `feature.py` and docs/ONBOARDING.md."""

from bot.features.onboarding.feature import feature, resume, runtime

__all__ = ["feature", "resume", "runtime"]
