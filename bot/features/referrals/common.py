"""What referrals' modules share: names, words and small helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.context import Context
from bot.i18n import N_
from storage.referrals import LAPSED, PENDING, QUALIFIED, SAME_MAKER, ReferralsRepo

QUALIFY_JOB = "referrals.qualify"
REVIEW_JOB = "ambassadors.review"
# Discord ids are snowflakes: the account's creation time, in ms since this epoch.
DISCORD_EPOCH_MS = 1420070400000

STATUS = {
    PENDING: N_("not yet counted"),
    QUALIFIED: N_("counted"),
    LAPSED: N_("left before counting"),
}
CONFIDENCE = {
    "exact": N_("through their link"),
    "creator": N_("through a link they made"),
    "vanity": N_("through the server's own address"),
    "ambiguous": N_("several links possible"),
    SAME_MAKER: N_("one of several links, all theirs"),
    "unknown": N_("source unknown"),
    "decided": N_("credited by an owner"),
}


def repo(ctx: Context) -> ReferralsRepo:
    return ctx.uow.repo(ReferralsRepo)


def enabled(ctx: Context) -> bool:
    return bool(ctx.setting("referrals.enabled"))


def discord_account_created(user_id: str) -> datetime | None:
    """When a Discord account was made, from its id (a snowflake); None if not one."""
    if not user_id.isdigit():
        return None
    return datetime.fromtimestamp(((int(user_id) >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)


def young_account(platform: str, user_id: str, at: datetime, min_age_s: int) -> bool:
    if platform != "discord" or min_age_s <= 0:
        return False
    created = discord_account_created(user_id)
    return created is not None and at - created < timedelta(seconds=min_age_s)


def name_of(ctx: Context, member_id: int | None) -> str:
    """A member's display name, or a word for someone forgotten or unknown."""
    ref = ctx.services.directory.by_id.get(member_id) if member_id is not None else None
    return ref.display_name if ref is not None else ctx.gettext(N_("a former member"))
