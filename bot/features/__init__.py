"""The features, one module each. `ALL` is the order they are registered in (and the
order their digest sections and `delete_member_data` run)."""

from __future__ import annotations

from bot.feature import Feature


def all_features() -> list[Feature]:
    from bot.features import community, engagement, onboarding, privacy

    return [community.feature, onboarding.feature, engagement.feature, privacy.feature]
