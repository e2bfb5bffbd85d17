"""Moderation's settings: each detector on or off, and the owners' thresholds.

(The join threshold `moderation.surge_per_minute` and the alert channel
`moderation.alert_channel` are declared in surge.py, where they began.)"""

from __future__ import annotations

from bot.feature import Router, Setting
from bot.i18n import N_

router = Router()

# Detectors, by the name `/moderation status` shows and the setting that turns them on.
DETECTORS = ("raid", "flood", "watch", "reports", "questions")
RAID, FLOOD, WATCH, REPORTS, QUESTIONS = (f"moderation.{d}" for d in DETECTORS)

router.setting(Setting(RAID, False, N_("Alert the moderators to raids (many young accounts joining at once)"), "boolean"))  # fmt: skip
router.setting(Setting(FLOOD, False, N_("Alert the moderators to floods (too many messages, the same text in several channels, many mentions, links from new members)"), "boolean"))  # fmt: skip
router.setting(Setting(WATCH, False, N_("Alert the moderators when a message has a watched word (/watch)"), "boolean"))  # fmt: skip
router.setting(Setting(REPORTS, True, N_("Members may report a message to the moderators with /report"), "boolean"))  # fmt: skip
router.setting(Setting(QUESTIONS, False, N_("Alert the moderators to questions nobody answered"), "boolean"))  # fmt: skip

YOUNG_DAYS = router.setting(
    Setting(
        "moderation.young_account_days",
        7,
        N_("A raid's accounts count as young when created less than this many days ago"),
        "integer",
        minimum=1,
        maximum=365,
    )
)
YOUNG_SHARE = router.setting(
    Setting(
        "moderation.young_share",
        50,
        N_(
            "A raid needs at least this percentage of young accounts among the joins (where the platform says)"
        ),
        "integer",
        minimum=0,
        maximum=100,
    )
)
FLOOD_PER_MINUTE = router.setting(
    Setting(
        "moderation.flood_per_minute",
        10,
        N_("More messages than this from one member within a minute are a flood"),
        "integer",
        minimum=2,
        maximum=1000,
    )
)
FLOOD_CHANNELS = router.setting(
    Setting(
        "moderation.flood_channels",
        3,
        N_("The same text from one member in this many channels within ten minutes is a flood"),
        "integer",
        minimum=2,
        maximum=50,
    )
)
FLOOD_MENTIONS = router.setting(
    Setting(
        "moderation.flood_mentions",
        5,
        N_("This many mentions in one message are a flood"),
        "integer",
        minimum=2,
        maximum=100,
    )
)
NEW_MEMBER = router.setting(
    Setting(
        "moderation.new_member_links",
        86400,
        N_("Links and invites from members who joined this recently are flagged"),
        "duration",
        minimum=0,
        maximum=30 * 86400,
    )
)
PER_HOUR = router.setting(
    Setting(
        "moderation.alerts_per_hour",
        10,
        N_("At most this many alerts an hour; the rest come in one summary"),
        "integer",
        minimum=1,
        maximum=100,
    )
)
TIMEOUT = router.setting(
    Setting(
        "moderation.timeout",
        3600,
        N_("How long the alert's Time out button silences a member"),
        "duration",
        minimum=60,
        maximum=28 * 86400,
    )
)
QUESTION_AFTER = router.setting(
    Setting(
        "moderation.question_after",
        4 * 3600,
        N_("A question with no reply for this long is sent to the moderators"),
        "duration",
        minimum=900,
        maximum=7 * 86400,
    )
)
DAY_STARTS = router.setting(
    Setting(
        "moderation.day_starts",
        8,
        N_("The community's waking hours start at this hour (unanswered questions wait for them)"),
        "integer",
        minimum=0,
        maximum=23,
    )
)
DAY_ENDS = router.setting(
    Setting(
        "moderation.day_ends",
        22,
        N_("The community's waking hours end at this hour"),
        "integer",
        minimum=1,
        maximum=24,
    )
)
RETENTION = router.setting(
    Setting(
        "moderation.retention",
        14 * 86400,
        N_("How long incidents and the excerpts of flagged messages are kept"),
        "duration",
        minimum=86400,
        maximum=365 * 86400,
    )
)
