"""Onboarding's settings (/config) and its default texts."""

from __future__ import annotations

from bot.feature import Setting, role_reference
from bot.features.onboarding.templates import checker
from bot.i18n import N_

# Default texts (translated into the community's language when the owner has not
# written their own).
DEFAULTS = {
    "welcome": N_("Welcome to {community}, {member}! We're glad you're here."),
    "dm": N_(
        "Hi {member}, welcome to {community}! Before you dive in, here are our rules:\n\n{rules}\n\nPress “I accept” to agree."
    ),
    "rules": N_(
        "1. Be kind and respectful.\n2. Stay on topic; no spam or self-promotion without asking.\n3. What is shared here stays here."
    ),
    "nudge": N_(
        "Hi {member}! You joined {community} a few days ago and we'd love to hear from you. Say hello in the main channel and tell us what brought you here."
    ),
}
TEMPLATE_NAMES = ("welcome", "rules", "dm", "nudge")


SETTINGS = (
    *(
        Setting(f"onboarding.{name}", None, description, "text", check=checker(name))
        for name, description in (
            (
                "welcome",
                N_("The public welcome; placeholders {member} {community} {rules} {inviter}"),
            ),
            (
                "rules",
                N_(
                    "The community's rules, sent privately; placeholders {member} {community} {inviter}"
                ),
            ),
            (
                "dm",
                N_(
                    "The private welcome with the rules; placeholders {member} {community} {rules} {inviter}"
                ),
            ),
            (
                "nudge",
                N_(
                    "The nudge to members who have not posted yet; placeholders {member} {community}"
                ),
            ),
        )
    ),
    Setting("onboarding.enabled", True, N_("Welcome new members"), "boolean"),
    Setting(
        "onboarding.gate",
        False,
        N_("New members must accept the rules before they can take part"),
        "boolean",
    ),
    Setting(
        "onboarding.member_role",
        None,
        N_("The role given when a member accepts the rules (Discord; empty: no role)"),
        normalize=role_reference,
    ),
    Setting(
        "onboarding.gate_timeout",
        1800,
        N_("How long a new member has to accept the rules"),
        "duration",
        minimum=60,
        maximum=7 * 86400,
    ),
    Setting(
        "onboarding.gate_timeout_action",
        "remove",
        N_("What happens when they do not accept in time: remove them, or keep them gated"),
        "choice",
        choices=("remove", "keep"),
    ),
    Setting(
        "onboarding.rejoin_window",
        86400,
        N_("A member who rejoins within this time is not welcomed again"),
        "duration",
        minimum=0,
        maximum=90 * 86400,
    ),
    Setting(
        "onboarding.nudge_after",
        3 * 86400,
        N_("Nudge new members who have not posted after this long (0s: never)"),
        "duration",
        minimum=0,
        maximum=90 * 86400,
    ),
)
