"""Actions meet their adapter in one place (bot/delivery.py): failures stay the
action's own, and the degradation rules of `Capabilities` hold on every platform.
Through the console adapter and the real core."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from adapters.console.adapter import ConsoleAdapter
from adapters.console.community import ConsoleCommunity
from bot.actions import (
    Action,
    ActionResult,
    Attachment,
    Kick,
    Send,
    SendDirect,
    SyncScheduledEvent,
)
from bot.config import Config
from bot.context import Context
from bot.events import MessagePosted
from bot.feature import Feature
from bot.features import all_features
from bot.markup import Text
from tests.conftest import START
from tests.conftest import member_ref as _member


@dataclass(frozen=True, slots=True, kw_only=True)
class Shout(Action):
    """An action type no adapter knows."""


def _odd_feature() -> Feature:
    """Three handlers of one message: an unknown action, a kick the platform
    fails on, then an ordinary answer."""

    async def no_merge(ctx: Context, from_id: int, into_id: int) -> None:

        pass

    async def nothing(ctx: Context, member_id: int) -> None:
        return None

    feature = Feature("odd", delete_member_data=nothing, merge_member_data=no_merge)

    @feature.on(MessagePosted)
    async def shout(ctx: Context, event: MessagePosted) -> None:
        ctx.act(Shout(platform="console"))

    @feature.on(MessagePosted)
    async def kick(ctx: Context, event: MessagePosted) -> None:
        assert event.actor is not None
        ctx.act(Kick(platform="console", space_id=event.space_id, user_id=event.actor.user_id))

    @feature.on(MessagePosted)
    async def answer(ctx: Context, event: MessagePosted) -> None:
        ctx.reply(ctx._("still here"))

    return feature


def spy(console: ConsoleCommunity, monkeypatch: pytest.MonkeyPatch) -> list[Action]:
    """Every action the console adapter is handed, performed or not."""
    received: list[Action] = []
    perform = console.adapter.perform

    async def recording(action: Action) -> ActionResult:
        received.append(action)
        return await perform(action)

    monkeypatch.setattr(console.adapter, "perform", recording)
    return received


def without(console: ConsoleCommunity, **capabilities: bool) -> None:
    console.adapter.capabilities = replace(ConsoleAdapter.capabilities, **capabilities)  # type: ignore[misc]


async def _direct(console: ConsoleCommunity, user_id: str, text: str) -> list[ActionResult]:
    """A feature's private message to a member, through the dispatcher's outbox."""
    info = console.app.directory.community_of("console", "console")
    event = MessagePosted(
        platform="console",
        space_id="console",
        actor=None,
        at=console.clock.now(),
        channel_id="general",
        message_id="0",
        text=None,
    )
    ctx = Context(console.app.services, event, info, None)
    ctx.direct(_member(console, user_id), ctx._(text))
    return await console.app.dispatcher.perform(ctx.actions, ctx)


@pytest.fixture
async def odd(config: Config) -> AsyncIterator[ConsoleCommunity]:
    console = ConsoleCommunity(config, start=START, features=[_odd_feature(), *all_features()])
    await console.start(migrate=False)
    await console.run("/setup Test Community\n/join dana")
    console.clear()
    yield console
    await console.stop()


async def test_an_unsupported_action_fails_alone_and_the_other_handlers_run(
    odd: ConsoleCommunity, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    perform = odd.adapter.perform

    async def kick_fails(action: Action) -> ActionResult:
        if isinstance(action, Kick):
            raise ConnectionError("the platform went away")
        return await perform(action)

    monkeypatch.setattr(odd.adapter, "perform", kick_fails)
    with caplog.at_level(logging.WARNING):
        await odd.run("/say dana hello")
        await odd.run("/say dana again")
    # Both messages were answered: neither failure skipped the next handler.
    assert odd.seen_by("#general").count("still here") == 2
    assert "the console adapter cannot perform Shout" in caplog.text
    assert "the console adapter failed on Kick" in caplog.text
    assert "could not dispatch" not in caplog.text


async def test_results_say_what_failed(odd: ConsoleCommunity) -> None:
    delivery = odd.app.services.delivery
    assert (await delivery.perform(Shout(platform="console"))).error == "unsupported"
    elsewhere = SendDirect(platform="telegram", user_id="1", text=Text.of("hi"))
    assert await delivery.perform(elsewhere) == ActionResult.failed(
        "unsupported", "no telegram adapter"
    )


async def test_without_private_messages_they_go_to_the_channel_at_once(
    console: ConsoleCommunity, monkeypatch: pytest.MonkeyPatch
) -> None:
    await console.run("/join dana")
    without(console, direct_messages=False)
    received = spy(console, monkeypatch)
    [result] = await _direct(console, "dana", "Welcome!")
    assert result.ok and result.fell_back
    assert not any(isinstance(a, SendDirect) for a in received)  # never tried
    assert console.seen_by("#general")[-1] == (
        "@dana, I could not send you a direct message, so here it is:\nWelcome!"
    )
    # A private answer to a command, too.
    console.clear()
    await console.run("/as dana\n/stats")
    assert console.seen_by("@dana") == []
    assert console.seen_by("#general")[-1].startswith(
        "@dana, I could not send you a direct message, so here it is:\n"
    )


async def test_without_attachments_files_are_named_in_the_text(
    console: ConsoleCommunity, monkeypatch: pytest.MonkeyPatch
) -> None:
    without(console, attachments=False)
    received = spy(console, monkeypatch)
    chart = Attachment("chart.png", b"x" * 1234, "image/png")
    result = await console.app.services.delivery.perform(
        Send(
            platform="console",
            space_id="console",
            channel_id="",
            text=Text.of("This week"),
            attachments=(chart,),
        )
    )
    assert result.ok
    [sent] = received
    assert isinstance(sent, Send) and sent.attachments == ()
    assert console.last_text() == (
        "This week\n(The file chart.png, 1,234 bytes, cannot be attached here.)"
    )


async def test_without_scheduled_events_none_is_sent(
    console: ConsoleCommunity, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not console.adapter.capabilities.scheduled_events
    received = spy(console, monkeypatch)
    at = datetime(2030, 1, 1, 18, tzinfo=UTC)
    result = await console.app.services.delivery.perform(
        SyncScheduledEvent(
            platform="console",
            space_id="console",
            event_key="ev:1",
            title="Meetup",
            starts_at=at,
            ends_at=at + timedelta(hours=2),
        )
    )
    assert (result.ok, result.error) == (False, "unsupported")
    assert received == []


async def test_one_note_for_all_that_waits_then_again_after_ten_minutes(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join dana\n/dms dana never")
    console.clear()
    note = (
        "@dana, I have a private message for you. Open a chat with me (/dm /start) and press Start."
    )
    [first] = await _direct(console, "dana", "one")
    [second] = await _direct(console, "dana", "two")
    assert first.pending and second.pending and second.message_id == first.message_id
    assert console.seen_by("#general") == [note]
    console.clock.tick(timedelta(minutes=11))
    await _direct(console, "dana", "three")
    assert console.seen_by("#general") == [note, note]
    # All three were kept, and arrive when dana opens the chat.
    await console.run("/as dana\n/dm /start")
    assert console.seen_by("@dana")[:3] == ["one", "two", "three"]


async def test_a_closed_inbox_without_a_fallback_place_is_reported(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join dana\n/dms dana off")
    result = await console.app.services.delivery.perform(
        SendDirect(platform="console", user_id="dana", text=Text.of("hi"))
    )
    assert (result.ok, result.error, result.fell_back) == (False, "dm_closed", False)


async def test_a_file_the_platform_refuses_is_followed_by_a_note_where_it_went(
    console: ConsoleCommunity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The adapter reports the file it could not send (`files_refused`); the core tells
    the reader in the same place, in the community's language: here /mydata's file,
    answered privately."""
    perform = console.adapter.perform

    async def refusing(action: Action) -> ActionResult:
        files = getattr(action, "attachments", ())
        if not files:
            return await perform(action)
        result = await perform(replace(action, attachments=()))  # type: ignore[call-arg]
        names = tuple(f.filename for f in files)
        return replace(result, files_refused=names, detail="Request Entity Too Large")

    monkeypatch.setattr(console.adapter, "perform", refusing)
    await console.run("/config set locale de\n/join dana")
    console.clear()
    await console.run("/as dana\n/mydata")
    assert console.seen_by("@dana")[-1] == (
        "Die Datei kehila-my-data.json konnte nicht gesendet werden: Console hat sie nicht "
        "angenommen. Bitte versuche es später noch einmal; wenn es weiter nicht klappt, sag der "
        "Person Bescheid, die diesen Bot betreibt (der Grund steht in ihrem Log)."
    )
