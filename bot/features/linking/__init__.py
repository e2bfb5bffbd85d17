"""Linking: one member across Discord and Telegram.

A person proves two accounts are theirs with a one-time code (`/link` on one, `/link
CODE` on the other), and the two members become one through the core's merge
(`bot.members.merge_members`: every feature's data, in one unit of work). `/unlink`
splits an account off again; owners link two accounts they know are one person
(`/members link`) and see a member's accounts (`/members show`). docs/LINKING.md.
"""

from __future__ import annotations

from bot.feature import Feature
from bot.features.linking import accounts, owners
from bot.features.linking.privacy import export, forget, merge


def setup() -> Feature:
    """The entry point: /link, /unlink and /members."""
    return Feature(
        "linking",
        delete_member_data=forget,
        merge_member_data=merge,
        export_member_data=export,
    ).include(accounts.router, owners.router)


__all__ = ["setup"]
