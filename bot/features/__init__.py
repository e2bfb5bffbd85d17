"""The features: one package (or module) each, with one entry point, `setup()`.

`all_features` is the one list of them: the order they are registered in (and the
order their handlers, digest sections, `delete_member_data` and `merge_member_data`
run). Nothing registers by being imported.
"""

from __future__ import annotations

from bot.feature import Feature


def all_features() -> list[Feature]:
    from bot.features import community, engagement, linking, moderation, onboarding, privacy

    return [
        community.setup(),
        moderation.setup(),
        onboarding.setup(),
        engagement.setup(),
        linking.setup(),
        privacy.setup(),
    ]
