"""Referrals' settings (/config)."""

from __future__ import annotations

from bot.feature import Setting, role_reference
from bot.i18n import N_

DAY = 86400
LEVELS = (1, 2, 3)
# Default thresholds per level: (active weeks, qualified referrals, replies to newcomers).
DEFAULT_LEVELS = {1: (4, 1, 0), 2: (8, 3, 3), 3: (16, 6, 10)}
# A newcomer, for the help they get: their first two weeks.
NEWCOMER_WEEKS = 2

SETTINGS = (
    Setting("referrals.enabled", True, N_("Keep track of who brought whom"), "boolean"),
    Setting(
        "referrals.qualify_after",
        7 * DAY,
        N_("A newcomer counts as a referral after staying this long"),
        "duration",
        minimum=3600,
        maximum=90 * DAY,
    ),
    Setting(
        "referrals.taking_part",
        "message",
        N_(
            "What a newcomer must also do to count: post a message, or any of a message, a reaction or an onboarding answer (any), or nothing"
        ),
        "choice",
        choices=("message", "any", "nothing"),
    ),
    Setting(
        "referrals.min_account_age",
        7 * DAY,
        N_(
            "Discord accounts younger than this when they join are flagged and never count by themselves"
        ),
        "duration",
        minimum=0,
        maximum=365 * DAY,
    ),
    Setting(
        "referrals.join_requests",
        "approve",
        N_("Telegram join requests: approve them at once, or hold them for moderators"),
        "choice",
        choices=("approve", "hold"),
    ),
    *(
        setting
        for level in LEVELS
        for setting in (
            Setting(
                f"ambassadors.level{level}_weeks",
                DEFAULT_LEVELS[level][0],
                N_("Ambassador level: the weeks a member must have taken part in"),
                "integer",
                minimum=1,
                maximum=52,
            ),
            Setting(
                f"ambassadors.level{level}_referrals",
                DEFAULT_LEVELS[level][1],
                N_("Ambassador level: the qualified referrals a member must have brought"),
                "integer",
                minimum=1,
                maximum=10000,
            ),
            Setting(
                f"ambassadors.level{level}_help",
                DEFAULT_LEVELS[level][2],
                N_(
                    "Ambassador level: the replies to newcomers (in their first two weeks) a member must have given"
                ),
                "integer",
                minimum=0,
                maximum=100000,
            ),
            Setting(
                f"ambassadors.level{level}_reward",
                None,
                N_(
                    "Ambassador level: the role (Discord) or tag (Telegram, console) it gives; empty: none"
                ),
                normalize=role_reference,
            ),
        )
    ),
)
