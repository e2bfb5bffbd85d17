"""The owner's side of the questions: /onboarding question add|list|remove, the
question syntax, and /onboarding answers (what new members answered)."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.feature import Router
from bot.features.onboarding.words import top_terms
from bot.i18n import N_, number, percent
from bot.markup import Bold, Items, Node, Text, lines
from storage.onboarding import MAX_QUESTIONS, OnboardingQuestion, OnboardingRepo

router = Router()

MAX_CHOICES = 8
MAX_LABEL = 40
MAX_QUESTION = 300


def parse_question(raw: str) -> tuple[str, list[dict[str, Any]]]:
    """`Why are you here? | Networking -> networker | Learning` → (text, choices).
    Raises ValueError with a msgid saying what is wrong."""
    text, *rest = [part.strip() for part in raw.replace("\\n", " ").split("|")]
    if not text:
        raise ValueError(N_("A question needs a text."))
    if len(text) > MAX_QUESTION:
        raise ValueError(N_("A question can have at most 300 characters."))
    choices: list[dict[str, Any]] = []
    for part in rest:
        label, arrow, target = part.partition("->")
        label, target = label.strip(), target.strip().lstrip("@#")
        if not label:
            raise ValueError(N_("A choice needs a label."))
        if len(label) > MAX_LABEL:
            raise ValueError(N_("A choice's label can have at most 40 characters."))
        if arrow and not target:
            raise ValueError(N_("After -> comes the role or tag the choice gives."))
        choices.append({"label": label, "target": target[:100] or None})
    if len(choices) == 1:
        raise ValueError(
            N_(
                "Give at least two choices, each after a |: Where did you hear of us? | a friend "
                "| Instagram. Or none, for a free-text answer."
            )
        )
    if len(choices) > MAX_CHOICES:
        raise ValueError(N_("A question can have at most 8 choices."))
    return text, choices


@router.handles("onboarding question add")
async def question_add(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    try:
        text, choices = parse_question(str(args["text"]))
    except ValueError as exc:
        ctx.reply(ctx._(str(exc.args[0])), private=True)
        return
    repo = ctx.uow.repo(OnboardingRepo)
    if len(await repo.questions(community.id)) >= MAX_QUESTIONS:
        ctx.reply(
            ctx.n_(
                "There is already {n} question, the most I ask. Remove it first.",
                "There are already {n} questions, the most I ask. Remove one first.",
                MAX_QUESTIONS,
            ),
            private=True,
        )
        return
    await repo.add_question(community.id, text, choices, ctx.now)
    questions = list(await repo.questions(community.id))
    ctx.reply(
        lines([ctx._(N_("Question added.")), describe_questions(ctx, questions)]), private=True
    )


def describe_questions(ctx: Context, questions: list[OnboardingQuestion]) -> Text:
    if not questions:
        return ctx._(N_("No questions yet. Add one with /onboarding question add."))
    rows: list[tuple[Node, ...]] = []
    for i, q in enumerate(questions, 1):
        if q.choices:
            described = ", ".join(
                c["label"] + (f" → {c['target']}" if c.get("target") else "") for c in q.choices
            )
        else:
            described = ctx.gettext(N_("free text"))
        rows.append((f"{i}. ", Bold((q.text,)), f" ({described})"))
    return Text.of(Items(tuple(rows)))


@router.handles("onboarding question list")
async def question_list(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.community is not None
    questions = list(await ctx.uow.repo(OnboardingRepo).questions(ctx.community.id))
    ctx.reply(describe_questions(ctx, questions), private=True)


@router.handles("onboarding question remove")
async def question_remove(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.community is not None
    repo = ctx.uow.repo(OnboardingRepo)
    questions = list(await repo.questions(ctx.community.id))
    number = int(args["number"])
    if not 1 <= number <= len(questions):
        ctx.reply(
            ctx._(N_("There is no question {number}."), number=number)
            + "\n"
            + describe_questions(ctx, questions),
            private=True,
        )
        return
    removed = questions.pop(number - 1)
    await repo.remove_question(removed.id)
    ctx.reply(
        lines(
            [
                ctx._(N_("Removed: {question}"), question=removed.text),
                describe_questions(ctx, questions),
            ]
        ),
        private=True,
    )


@router.handles("onboarding answers")
async def answers(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    repo = ctx.uow.repo(OnboardingRepo)
    questions = list(await repo.questions(community.id))
    if not questions:
        ctx.reply(describe_questions(ctx, questions), private=True)
        return
    by_question: dict[int, list[Any]] = {}
    for answer in await repo.answers(community.id):
        by_question.setdefault(answer.question_id, []).append(answer)
    parts: list[Text] = [
        ctx._(N_("Answers of new members in **{community}**:"), community=community.name)
    ]
    for i, question in enumerate(questions, 1):
        given = by_question.get(question.id, [])
        skipped = sum(1 for a in given if a.skipped)
        answered = len(given) - skipped
        parts.append(
            Text.of(
                Bold((f"{i}. {question.text}",)),
                " ",
                ctx._(
                    N_("({answered}, {skipped})"),
                    answered=ctx.n_("{n} answered", "{n} answered", answered),
                    skipped=ctx.n_("{n} skipped", "{n} skipped", skipped),
                ),
            )
        )
        if question.choices:
            counts = [0] * len(question.choices)
            for a in given:
                if a.choice is not None and a.choice < len(counts):
                    counts[a.choice] += 1
            loc = ctx.locale  # numbers and shares as the language writes them: "50 %"
            rows: list[tuple[Node, ...]] = [
                (
                    f"{c['label']}: {number(loc, n)}"
                    + (f" ({percent(loc, n / answered)})" if answered else ""),
                )
                for c, n in zip(question.choices, counts, strict=True)
            ]
            parts.append(Text.of(Items(tuple(rows))))
        else:
            top_words, top_phrases = top_terms(a.text for a in given if a.text)
            if top_words:
                parts.append(
                    ctx._(
                        N_("Most used words: {words}"),
                        words=", ".join(f"{w} ({n})" for w, n in top_words),
                    )
                )
            if top_phrases:
                parts.append(
                    ctx._(
                        N_("Most used phrases: {phrases}"),
                        phrases=", ".join(f"{p} ({n})" for p, n in top_phrases),
                    )
                )
    ctx.reply(lines(parts), private=True)
