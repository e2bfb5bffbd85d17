"""The delivery queue (bot/outbox.py) end to end: what fans out is written to the
outbox in the transaction that decided it, and the worker sends it once, paced,
retried in fake time, given up with the platform's reason.

The console does not run the worker by itself: `queue` below runs a line without
sending, `drain` sends what is due now, `console.advance` sends rows as they come
due (a retry's back-off, the pace). Nothing sleeps."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from adapters.console.adapter import ConsoleAdapter
from adapters.console.community import ConsoleCommunity
from bot.actions import Action, ActionResult, Send, SendDirect
from bot.commands import CommandSpec, OptionSpec, Permission
from bot.config import Config
from bot.context import Context
from bot.feature import Feature
from bot.features import all_features
from bot.markup import Text
from bot.ports import Pace, Window
from storage.outbox import OutboxRow
from storage.unit_of_work import UnitOfWork
from tests.conftest import START

# The digest of the week before Monday 9 March, at 09:00 UTC (the community's zone).
DIGEST_AT = START + timedelta(days=7, hours=1)


async def _no_merge(ctx: Context, from_id: int, into_id: int) -> None:
    pass


async def _no_data(ctx: Context, member_id: int) -> None:
    return None


def bulk_feature() -> Feature:
    """`/announce N`: N notices to the owners; `/post N`: N posts in the group;
    `/announce_and_fail`: one notice, then the handler fails; `/greet NAME`: a private
    message to a member."""
    feature = Feature("bulk", delete_member_data=_no_data, merge_member_data=_no_merge)
    count = (OptionSpec("count", "How many", "integer"),)
    feature.command(CommandSpec("announce", "Notices", count, Permission.OWNER))
    feature.command(CommandSpec("post", "Posts", count, Permission.OWNER))
    feature.command(CommandSpec("announce_and_fail", "Fails", (), Permission.OWNER))
    feature.command(CommandSpec("greet", "Greets", (OptionSpec("name", "Whom"),), Permission.OWNER))

    @feature.handles("greet")
    async def greet(ctx: Context, args: dict[str, Any]) -> None:
        assert ctx.community is not None
        member = ctx.services.directory.member(ctx.community.id, "console", str(args["name"]))
        assert member is not None
        ctx.direct(member, Text.of("greeting"), bulk=True)

    @feature.handles("announce")
    async def announce(ctx: Context, args: dict[str, Any]) -> None:
        for n in range(int(args["count"])):
            ctx.tell_owners(lambda locale, n=n: Text.of(f"notice {n}"))
        ctx.reply(Text.of("queued"), private=True)

    @feature.handles("post")
    async def post(ctx: Context, args: dict[str, Any]) -> None:
        for n in range(int(args["count"])):
            ctx.act(
                Send(
                    platform="console",
                    space_id="console",
                    channel_id="news",
                    text=Text.of(f"post {n}"),
                ),
                bulk=True,
            )

    @feature.handles("announce_and_fail")
    async def announce_and_fail(ctx: Context, args: dict[str, Any]) -> None:
        ctx.tell_owners(lambda locale: Text.of("notice that must not go"))
        raise RuntimeError("the handler failed after queueing")

    return feature


def with_outbox(config: Config, **values: Any) -> Config:
    return config.model_copy(update={"outbox": config.outbox.model_copy(update=values)})


async def _console(config: Config) -> ConsoleCommunity:
    console = ConsoleCommunity(config, start=START, features=[*all_features(), bulk_feature()])
    await console.start(migrate=False)
    await console.run("/setup Test Community")
    console.clear()
    return console


@pytest.fixture
async def bulk(config: Config) -> AsyncIterator[ConsoleCommunity]:
    console = await _console(with_outbox(config, max_attempts=3))
    yield console
    await console.stop()


async def queue(console: ConsoleCommunity, line: str) -> None:
    """Run a console line without sending what it queued (no worker runs)."""
    settle, console.session.settle = console.session.settle, None
    try:
        await console.run(line)
    finally:
        console.session.settle = settle


async def outbox_rows(console: ConsoleCommunity) -> list[OutboxRow]:
    async with UnitOfWork(console.app.services.db) as uow:
        return await uow.outbox.rows()


@dataclass
class Attempt:
    at: datetime
    text: str
    result: ActionResult


Answer = Callable[[Action, int], ActionResult | None]


def platform(
    console: ConsoleCommunity, monkeypatch: pytest.MonkeyPatch, answer: Answer | None = None
) -> list[Attempt]:
    """Every attempt to send a notice or a post, with the fake time it was made.
    `answer(action, nth attempt of this text)` may refuse it (a platform error)."""
    attempts: list[Attempt] = []
    perform = console.adapter.perform

    async def performing(action: Action) -> ActionResult:
        content = getattr(action, "text", None)
        body = content.plain() if isinstance(content, Text) else ""
        if not body.startswith(("notice", "post")):
            return await perform(action)
        tries = sum(1 for a in attempts if a.text == body) + 1
        result = (answer(action, tries) if answer else None) or await perform(action)
        attempts.append(Attempt(console.clock.now(), body, result))
        return result

    monkeypatch.setattr(console.adapter, "perform", performing)
    return attempts


def delivered(attempts: list[Attempt]) -> list[str]:
    return [a.text for a in attempts if a.result.ok]


# --- queued in the deciding transaction, sent once ---------------------------------


async def test_a_digest_is_queued_in_its_run_and_sent_once(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    console = await _console(config)
    try:
        await console.run("/join dana\n/say dana hello")
        console.clear()
        # The timer alone: the digest job runs, no worker sends.
        await console.app.services.timer.advance_to(DIGEST_AT)
        assert not [a for a in console.actions(SendDirect) if a.attachments]
        [row] = await outbox_rows(console)
        assert (row.state, row.attempts, row.platform, row.pace_key) == (
            "pending",
            0,
            "console",
            "@owner",
        )
        assert row.action["kind"] == "SendDirect"
        assert row.action["attachments"][0][1] == "image/png"  # the chart, queued with it
        async with UnitOfWork(console.app.services.db) as uow:
            # The run's claim, committed with its outbox row.
            assert await uow.jobs.was_claimed("engagement.digest", "community:1", DIGEST_AT)

        assert await console.app.outbox.drain() == 1
        [digest] = [a for a in console.actions(SendDirect) if a.attachments]
        assert "Weekly digest of Test Community" in digest.text.plain()
        [row] = await outbox_rows(console)
        assert (row.state, row.attempts, row.error) == ("sent", 1, None)
        assert row.message_id and row.done_at == DIGEST_AT
        # A sent row keeps the chart's name, not its bytes.
        [(name, mime, body)] = row.action["attachments"]
        assert name.endswith(".png") and mime == "image/png" and body == ""
        # Nothing sends it again: another drain, a day later, a restart.
        assert await console.app.outbox.drain() == 0
        await console.advance(timedelta(days=1))
        assert len([a for a in console.actions(SendDirect) if a.attachments]) == 1
        await console.restart()  # a new adapter: it starts with nothing performed
        assert not [a for a in console.actions(SendDirect) if a.attachments]
    finally:
        await console.stop()


async def test_a_digest_run_that_cannot_commit_queues_nothing(config: Config) -> None:
    """The outbox row is written in the run's transaction: when the run cannot
    commit (the database refuses its last write), there is no row to send."""
    console = await _console(config)
    db = console.app.services.db
    refuse = {
        "sqlite": [
            "CREATE TRIGGER refuse_digest BEFORE UPDATE ON job_schedule"
            " WHEN NEW.job = 'engagement.digest' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        ],
        "postgresql": [
            "CREATE FUNCTION refuse_digest() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$",
            "CREATE TRIGGER refuse_digest BEFORE UPDATE ON job_schedule FOR EACH ROW"
            " WHEN (NEW.job = 'engagement.digest') EXECUTE FUNCTION refuse_digest()",
        ],
    }[db.dialect]
    heal = {
        "sqlite": ["DROP TRIGGER refuse_digest"],
        "postgresql": [
            "DROP TRIGGER refuse_digest ON job_schedule",
            "DROP FUNCTION refuse_digest()",
        ],
    }[db.dialect]

    async def run_sql(statements: list[str]) -> None:
        async with db.engine.begin() as conn:
            for statement in statements:
                await conn.exec_driver_sql(statement)

    try:
        await console.run("/join dana\n/say dana hello")
        await run_sql(refuse)
        try:
            await console.advance(DIGEST_AT - console.clock.now())
        finally:
            await run_sql(heal)
        assert await outbox_rows(console) == []
        assert not [a for a in console.actions(SendDirect) if a.attachments]
    finally:
        await console.stop()


async def test_bulk_waits_for_the_worker_and_the_reply_does_not(
    bulk: ConsoleCommunity, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = platform(bulk, monkeypatch)
    await queue(bulk, "/announce 3")
    assert bulk.seen_by("@owner") == ["queued"]  # the answer to who acted: at once
    assert [r.state for r in await outbox_rows(bulk)] == ["pending"] * 3
    assert await bulk.app.outbox.drain() == 3
    assert delivered(attempts) == ["notice 0", "notice 1", "notice 2"]
    assert [r.state for r in await outbox_rows(bulk)] == ["sent"] * 3
    async with UnitOfWork(bulk.app.services.db) as uow:  # counted without the payloads
        assert await uow.outbox.states() == {"sent": 3}


async def test_a_handler_that_fails_queues_nothing(
    bulk: ConsoleCommunity, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = platform(bulk, monkeypatch)
    await bulk.run("/announce_and_fail")
    assert await outbox_rows(bulk) == []
    assert attempts == []
    assert "Sorry, something went wrong" in bulk.last_text()


async def test_the_console_sends_what_a_line_queued(
    bulk: ConsoleCommunity, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = platform(bulk, monkeypatch)
    await bulk.run("/announce 2")
    assert delivered(attempts) == ["notice 0", "notice 1"]


async def test_the_surge_alert_is_queued_with_the_surge(console: ConsoleCommunity) -> None:
    await console.run("/config set moderation.surge_per_minute 2")
    console.clear()
    await queue(console, "/join a1\n/join a2\n/join a3")
    [alert] = await outbox_rows(console)
    assert (alert.state, alert.pace_key) == ("pending", "@owner")
    assert "Join surge" in str(alert.action["text"])
    await console.app.outbox.drain()
    assert len([t for t in console.seen_by("@owner") if "Join surge" in t]) == 1


async def test_forgetme_deletes_what_waits_for_the_member(bulk: ConsoleCommunity) -> None:
    await bulk.run("/join dana")
    await queue(bulk, "/greet dana\n/announce 1\n/as dana\n/forgetme\n/click 1")
    [left] = await outbox_rows(bulk)
    assert left.pace_key == "@owner"  # the owner's notice stays; nothing for dana
    await bulk.app.outbox.drain()
    assert not [t for t in bulk.seen_by("@dana") if "greeting" in t]
    assert [t for t in bulk.seen_by("@owner") if t.startswith("notice")] == ["notice 0"]


# --- retries in fake time ------------------------------------------------------------


async def test_a_429_is_retried_after_the_time_the_platform_said(
    bulk: ConsoleCommunity, monkeypatch: pytest.MonkeyPatch
) -> None:
    def flood(action: Action, tries: int) -> ActionResult | None:
        if tries == 1 and action.text.plain() == "notice 0":  # type: ignore[attr-defined]
            return ActionResult.failed(
                "rate_limited", "Too Many Requests: retry after 30", retry_after=30
            )
        return None

    attempts = platform(bulk, monkeypatch, flood)
    start = bulk.clock.now()
    await queue(bulk, "/announce 3")
    await bulk.app.outbox.drain()
    assert delivered(attempts) == []
    first, *waiting = await outbox_rows(bulk)
    assert (first.state, first.attempts, first.error) == ("pending", 1, "rate_limited")
    assert first.next_attempt_at == start + timedelta(seconds=30)
    # The rest of that chat waits with it, untried, in order.
    assert [(r.attempts, r.next_attempt_at) for r in waiting] == [
        (0, start + timedelta(seconds=30))
    ] * 2

    await bulk.advance(timedelta(seconds=29))
    assert delivered(attempts) == []
    await bulk.advance(timedelta(seconds=1))
    assert delivered(attempts) == ["notice 0", "notice 1", "notice 2"]
    assert {a.at for a in attempts if a.result.ok} == {start + timedelta(seconds=30)}
    rows = await outbox_rows(bulk)
    assert [(r.state, r.attempts) for r in rows] == [("sent", 2), ("sent", 1), ("sent", 1)]


async def test_transient_failures_back_off_then_give_up_with_the_reason(
    bulk: ConsoleCommunity, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(action: Action, tries: int) -> ActionResult:
        return ActionResult.failed("failed", "network: timed out")

    attempts = platform(bulk, monkeypatch, down)
    start = bulk.clock.now()
    await queue(bulk, "/announce 1")
    await bulk.advance(timedelta(hours=1))
    # 5 s, then 10 s: three tries in all (outbox.max_attempts = 3 here), then no more.
    assert [a.at - start for a in attempts] == [
        timedelta(0),
        timedelta(seconds=5),
        timedelta(seconds=15),
    ]
    [row] = await outbox_rows(bulk)
    assert (row.state, row.attempts, row.error, row.reason) == (
        "failed",
        3,
        "failed",
        "network: timed out",
    )


@pytest.mark.parametrize(
    ("command", "error", "reason"),
    [
        ("/announce 1", "forbidden", "Forbidden: bot was blocked by the user"),
        ("/post 1", "not_found", "Bad Request: chat not found"),
    ],
)
async def test_a_permanent_refusal_is_given_up_at_once_with_the_reason(
    bulk: ConsoleCommunity,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    error: str,
    reason: str,
) -> None:
    attempts = platform(
        bulk,
        monkeypatch,
        lambda action, tries: ActionResult.failed(error, reason),  # type: ignore[arg-type]
    )
    await queue(bulk, command)
    await bulk.advance(timedelta(days=1))
    assert len(attempts) == 1
    [row] = await outbox_rows(bulk)
    assert (row.state, row.attempts, row.error, row.reason) == ("failed", 1, error, reason)


# --- the pace, in fake time ----------------------------------------------------------


def paced(console: ConsoleCommunity, pace: Pace) -> None:
    console.adapter.capabilities = replace(ConsoleAdapter.capabilities, pace=pace)  # type: ignore[misc]


async def test_twenty_posts_a_minute_in_one_group(
    bulk: ConsoleCommunity, monkeypatch: pytest.MonkeyPatch
) -> None:
    paced(bulk, Pace(group=Window(20, 60.0)))
    attempts = platform(bulk, monkeypatch)
    start = bulk.clock.now()
    await queue(bulk, "/post 45")
    await bulk.app.outbox.drain()
    assert len(attempts) == 20
    await bulk.advance(timedelta(seconds=59))
    assert len(attempts) == 20
    await bulk.advance(timedelta(seconds=1))
    assert len(attempts) == 40
    await bulk.advance(timedelta(minutes=1))
    assert delivered(attempts) == [f"post {n}" for n in range(45)]  # in order
    minutes = [int((a.at - start).total_seconds() // 60) for a in attempts]
    assert minutes == [0] * 20 + [1] * 20 + [2] * 5


async def test_a_post_the_platform_splits_in_two_counts_twice(
    bulk: ConsoleCommunity, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "post 0" to "post 14" are six or seven characters: two messages each where five
    # is the limit.
    bulk.adapter.capabilities = replace(  # type: ignore[misc]
        ConsoleAdapter.capabilities, pace=Pace(group=Window(20, 60.0)), max_text_length=5
    )
    attempts = platform(bulk, monkeypatch)
    await queue(bulk, "/post 15")
    await bulk.app.outbox.drain()
    assert len(attempts) == 10  # 20 messages' worth in the first minute
    await bulk.advance(timedelta(minutes=1))
    assert delivered(attempts) == [f"post {n}" for n in range(15)]


async def test_the_overall_rate_and_one_private_chat(
    bulk: ConsoleCommunity, monkeypatch: pytest.MonkeyPatch
) -> None:
    paced(bulk, Pace(overall=Window(30, 1.0), private=Window(1, 1.0)))
    attempts = platform(bulk, monkeypatch)
    start = bulk.clock.now()
    await queue(bulk, "/announce 3\n/post 40")  # 3 to one private chat, 40 to the group
    await bulk.advance(timedelta(seconds=5))
    assert len(delivered(attempts)) == 43
    seconds = [a.at - start for a in attempts]
    per_second = [sum(1 for s in seconds if s == timedelta(seconds=n)) for n in range(3)]
    assert per_second == [30, 12, 1]  # never more than 30 a second
    notices = [a.at - start for a in attempts if a.text.startswith("notice")]
    assert notices == [timedelta(seconds=n) for n in range(3)]  # one a second to one chat
