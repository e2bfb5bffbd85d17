"""Referrals and ambassadors: members' own invite links, who brought whom (and how
sure that is), referrals that count once the newcomer stayed and took part, chains
for owners, ambassador levels, join requests, the digest's section.

Modules: `links` (/invite), `joins` (attribution, leaves), `qualifying` (the job and
`MemberTookPart`), `chains` (/referrals), `ambassadors` (levels, the monthly review,
/ambassadors), `join_requests` (Telegram), `digest` (the section), `privacy`,
`settings`, `common`. `setup()` (feature.py) is the entry point.
"""

from __future__ import annotations

from bot.features.referrals.feature import setup

__all__ = ["setup"]
