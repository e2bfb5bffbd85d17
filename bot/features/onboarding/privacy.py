"""What onboarding forgets (/forgetme) and exports (/mydata) about a member."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.context import Context
from bot.features.onboarding.runtime import GATE_JOB, NUDGE_JOB, runtime
from storage.onboarding import OnboardingRepo


async def forget(ctx: Context, member_id: int) -> None:
    await OnboardingRepo(ctx.uow.session).delete_member(member_id)
    await ctx.unschedule(GATE_JOB, str(member_id))
    await ctx.unschedule(NUDGE_JOB, str(member_id))
    ctx.after_commit(lambda: runtime(ctx.services).erase(member_id))


async def export(ctx: Context, member_id: int) -> dict[str, Any]:
    repo = OnboardingRepo(ctx.uow.session)
    state = await repo.state(member_id)
    answers = []
    for answer in await repo.member_answers(member_id):
        question = await repo.question(answer.question_id)
        if question is None:
            continue
        choice = (
            question.choices[answer.choice]["label"]
            if answer.choice is not None and answer.choice < len(question.choices)
            else None
        )
        answers.append(
            {
                "question": question.text,
                "choice": choice,
                "text": answer.text,
                "skipped": answer.skipped,
                "answered_at": answer.answered_at.isoformat(),
            }
        )
    data: dict[str, Any] = {"answers": answers}
    if state is not None:
        data["state"] = {
            key: (value.isoformat() if isinstance(value, datetime) else value)
            for key in (
                "joined_at",
                "accepted_at",
                "answered_at",
                "completed_at",
                "first_message_at",
                "nudged_at",
                "left_at",
                "removed_at",
            )
            if (value := getattr(state, key)) is not None
        }
    return data
