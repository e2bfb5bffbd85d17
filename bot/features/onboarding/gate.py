"""The verification gate: how it works on a platform (withhold the member role, or
restrict), and the time-out job for members who do not accept. Accepting is in
`questions.py`, where it leads to the first question."""

from __future__ import annotations

from bot.actions import Kick
from bot.context import Context
from bot.events import JobFired
from bot.feature import Router
from bot.features.onboarding.runtime import GATE_JOB
from bot.i18n import N_
from bot.ports import Capabilities
from storage.onboarding import OnboardingRepo

router = Router()


def capabilities(ctx: Context, platform: str) -> Capabilities | None:
    adapter = ctx.services.adapters.get(platform)
    return adapter.capabilities if adapter is not None else None


def gate_mode(ctx: Context, platform: str) -> str | None:
    """How the gate works on a platform: withhold the member role, or restrict."""
    caps = capabilities(ctx, platform)
    if caps is None:
        return None
    if caps.roles and ctx.setting("onboarding.member_role"):
        return "role"
    if caps.restrict:
        return "restrict"
    return None


@router.job(GATE_JOB)
async def gate_timeout(ctx: Context, event: JobFired) -> None:
    repo = ctx.uow.repo(OnboardingRepo)
    state = await repo.state(int(event.key))
    if state is None or state.test or state.accepted_at or state.left_at or state.removed_at:
        return
    member = ctx.services.directory.by_id.get(state.member_id)
    if member is None or ctx.setting("onboarding.gate_timeout_action") != "remove":
        return  # "keep": they stay gated until they accept
    state.removed_at = ctx.now
    ctx.direct(
        member,
        ctx._(
            N_(
                "You did not accept the rules of {community} in time, so I removed you from it. You are welcome to join again."
            ),
            community=ctx.community.name if ctx.community else "",
        ),
    )
    ctx.act(
        Kick(
            platform=state.platform,  # type: ignore[arg-type]
            space_id=state.space_id,
            user_id=member.user_id,
            reason=ctx.gettext(N_("Did not accept the rules in time")),
        )
    )
