"""What onboarding forgets (/forgetme), merges (one person, two members) and exports
(/mydata) about a member."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.context import Context
from bot.features.onboarding.runtime import GATE_JOB, NUDGE_JOB, runtime
from bot.schedule import ScheduleEntry
from storage.onboarding import OnboardingRepo


async def forget(ctx: Context, member_id: int) -> None:
    await ctx.uow.repo(OnboardingRepo).delete_member(member_id)
    await ctx.unschedule(GATE_JOB, str(member_id))
    await ctx.unschedule(NUDGE_JOB, str(member_id))
    ctx.after_commit(lambda: runtime(ctx.services).erase(member_id))


async def merge(ctx: Context, from_id: int, into_id: int) -> None:
    """The more advanced onboarding wins; its pending gate and nudge go with it."""
    from_won = await ctx.uow.repo(OnboardingRepo).merge_member(from_id, into_id)
    for job in (GATE_JOB, NUDGE_JOB):
        stored = await ctx.uow.jobs.get(job, str(from_id))
        if from_won:
            await ctx.unschedule(job, str(into_id))
            if stored is not None and stored.run_at is not None:
                await ctx.schedule(
                    ScheduleEntry(job, str(into_id), stored.community_id, run_at=stored.run_at)
                )
        if stored is not None:
            await ctx.unschedule(job, str(from_id))
    rt = runtime(ctx.services)
    ctx.after_commit(lambda: rt.merge(from_id, into_id, from_won=from_won))


async def export(ctx: Context, member_id: int) -> dict[str, Any]:
    repo = ctx.uow.repo(OnboardingRepo)
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
