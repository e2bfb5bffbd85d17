"""The core's shape (issue #10): features as plugins with typed state and their own
repositories, internal events between features, the one run path and its error
paths, and private chats with a person in several communities."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event as sql_event

from adapters.console.community import ConsoleCommunity
from bot.actions import Button, Reply, Send
from bot.commands import CommandSpec
from bot.config import Config
from bot.context import Context
from bot.events import (
    Actor,
    ButtonPressed,
    CommandInvoked,
    InternalEvent,
    MemberJoined,
    SettingChanged,
    event,
)
from bot.feature import Feature, Router
from bot.features import all_features
from bot.features.onboarding import Runtime
from storage.onboarding import OnboardingRepo
from storage.unit_of_work import UnitOfWork
from tests.conftest import START, member_ref


async def _nothing(ctx: Context, member_id: int) -> None:
    pass


async def _no_merge(ctx: Context, from_id: int, into_id: int) -> None:
    pass


@event
class Ordered(InternalEvent):
    """A test's internal event: an order was placed."""

    item: str


@dataclass
class Shop:
    """The test feature's typed state."""

    orders: list[str] = field(default_factory=list)
    seen_settings: list[tuple[str, Any]] = field(default_factory=list)


def _shop_features(*, publisher_fails: bool = False, consumer_fails: bool = False) -> Feature:
    """/order ITEM stores the order (a setting, for storage), replies, and publishes
    `Ordered`; the kitchen (a second feature) reacts to it."""
    counter = Router()
    counter.command(CommandSpec("order", "Order something"))

    @counter.handles("order")
    async def order(ctx: Context, args: dict[str, Any]) -> None:
        assert ctx.community is not None
        await ctx.uow.settings.set(ctx.community.id, "shop.last", "soup")
        ctx.reply(ctx._("Ordered."))
        ctx.publish(Ordered(community_id=ctx.community.id, item="soup", at=ctx.now))
        if publisher_fails:
            raise RuntimeError("the till jammed")

    kitchen = Router()

    @kitchen.on(Ordered)
    async def cook(ctx: Context, event: Ordered) -> None:
        assert ctx.community is not None
        # Its own unit of work sees what the publisher committed.
        stored = await ctx.uow.settings.of(ctx.community.id)
        ctx.state(Shop).orders.append(f"{event.item} ({stored.get('shop.last')})")
        ctx.act(Send(platform="console", space_id="console", channel_id="", text=ctx._("Cooking.")))
        if consumer_fails:
            raise RuntimeError("the stove is cold")

    @kitchen.on(SettingChanged)
    async def noted(ctx: Context, event: SettingChanged) -> None:
        ctx.state(Shop).seen_settings.append((event.key, event.value))

    return Feature(
        "shop", delete_member_data=_nothing, merge_member_data=_no_merge, states=(lambda s: Shop(),)
    ).include(counter, kitchen)


async def _console(config: Config, feature: Feature | None = None) -> ConsoleCommunity:
    features = [*all_features(), feature] if feature else None
    console = ConsoleCommunity(config, start=START, features=features)
    await console.start(migrate=False)
    await console.run("/setup Test Community")
    console.clear()
    return console


async def test_a_published_event_runs_after_the_commit_and_the_publishers_actions(
    config: Config,
) -> None:
    console = await _console(config, _shop_features())
    try:
        await console.run("/order")
        shop = console.app.services.state(Shop)
        assert shop.orders == ["soup (soup)"]
        texts = [p.text for p in console.performed]
        assert texts.index("Ordered.") < texts.index("Cooking.")
    finally:
        await console.stop()


async def test_a_failing_publisher_publishes_nothing(config: Config) -> None:
    console = await _console(config, _shop_features(publisher_fails=True))
    try:
        await console.run("/order")
        assert console.app.services.state(Shop).orders == []
        assert "Sorry, something went wrong" in console.last_text()
        assert "Cooking." not in [p.text for p in console.performed]
    finally:
        await console.stop()


async def test_a_failing_consumer_leaves_the_publishers_work_done(config: Config) -> None:
    console = await _console(config, _shop_features(consumer_fails=True))
    try:
        await console.run("/order")
        texts = [p.text for p in console.performed]
        assert "Ordered." in texts and "Cooking." not in texts
        community = console.app.directory.community_of("console", "console")
        assert community is not None
        async with UnitOfWork(console.app.services.db) as uow:
            assert (await uow.settings.of(community.id))["shop.last"] == "soup"
    finally:
        await console.stop()


async def test_every_setting_change_is_announced_once_with_the_value_in_force(
    config: Config,
) -> None:
    console = await _console(config, _shop_features())
    try:
        await console.run(
            "/config set digest.hour 7\n/config reset digest.hour\n/config set timezone Asia/Jerusalem"
        )
        seen = console.app.services.state(Shop).seen_settings
        assert seen == [("digest.hour", 7), ("digest.hour", 9), ("timezone", "Asia/Jerusalem")]
    finally:
        await console.stop()


async def test_the_digest_schedule_follows_its_settings_whoever_changes_them(
    config: Config,
) -> None:
    console = await _console(config)
    try:
        community = console.app.directory.community_of("console", "console")
        assert community is not None
        await console.run("/config set digest.day fri\n/config set timezone Asia/Jerusalem")
        async with UnitOfWork(console.app.services.db) as uow:
            stored = await uow.jobs.get("engagement.digest", f"community:{community.id}")
        assert stored is not None
        assert stored.cron is not None and stored.cron["day_of_week"] == "fri"
        assert stored.timezone == "Asia/Jerusalem"
    finally:
        await console.stop()


async def test_an_update_of_memory_that_fails_still_lets_the_reply_go_out(
    config: Config,
) -> None:
    router = Router()
    router.command(CommandSpec("note", "Note something"))
    noted: list[str] = []

    @router.handles("note")
    async def note(ctx: Context, args: dict[str, Any]) -> None:
        assert ctx.community is not None
        await ctx.uow.settings.set(ctx.community.id, "notes.last", "x")

        def broken() -> None:
            raise RuntimeError("memory is full")

        ctx.after_commit(broken)
        ctx.after_commit(lambda: noted.append("second"))
        ctx.reply(ctx._("Noted."))

    feature = Feature("notes", delete_member_data=_nothing, merge_member_data=_no_merge)
    console = await _console(config, feature.include(router))
    try:
        await console.run("/note")
        assert console.last_text() == "Noted."
        assert noted == ["second"]
    finally:
        await console.stop()


async def test_features_are_built_per_app_with_their_own_state(config: Config) -> None:
    first, second = all_features(), all_features()
    assert all(a is not b for a, b in zip(first, second, strict=True))
    console = await _console(config)
    try:
        services = console.app.services
        assert isinstance(services.state(Runtime), Runtime)
        with pytest.raises(KeyError):
            services.state(Shop)  # no feature keeps it in this app
        async with UnitOfWork(services.db) as uow:
            assert isinstance(uow.repo(OnboardingRepo), OnboardingRepo)
            assert uow.repo(OnboardingRepo) is uow.repo(OnboardingRepo)
            with pytest.raises(LookupError):
                uow.repo(Shop)
    finally:
        await console.stop()


# --- one person in two communities, in a private chat ---------------------------------


def _dana() -> Actor:
    return Actor(user_id="dana", display_name="Dana")


async def _two_communities(console: ConsoleCommunity) -> tuple[int, int]:
    """Dana is in the console's community and in a second one (another space)."""
    at = console.clock.now()
    rivka = Actor(user_id="rivka", display_name="Rivka", is_platform_admin=True)
    from bot.events import SpaceAdded

    await console.app.dispatch(
        SpaceAdded(platform="console", space_id="annex", actor=rivka, at=at, title="annex")
    )
    await console.app.dispatch(
        CommandInvoked(
            platform="console",
            space_id="annex",
            actor=rivka,
            at=at,
            channel_id="main",
            name="setup",
            args=("Second", "Club"),
        )
    )
    await console.run("/join dana")
    await console.app.dispatch(
        MemberJoined(platform="console", space_id="annex", actor=_dana(), at=at)
    )
    directory = console.app.directory
    home, annex = (
        directory.community_of("console", "console"),
        directory.community_of("console", "annex"),
    )
    assert home is not None and annex is not None and home is not annex
    assert directory.communities_of_account("console", "dana") == {home.id, annex.id}
    return home.id, annex.id


def _last_buttons(console: ConsoleCommunity) -> tuple[Button, ...]:
    replies = [a for a in console.actions(Reply) if isinstance(a, Reply) and a.buttons]
    return replies[-1].buttons


async def _private(console: ConsoleCommunity, *, command: str = "", button: str = "") -> None:
    at: datetime = console.clock.now()
    if command:
        await console.app.dispatch(
            CommandInvoked(
                platform="console",
                space_id="",
                actor=_dana(),
                at=at,
                channel_id="dana",
                name=command,
                private=True,
            )
        )
    else:
        await console.app.dispatch(
            ButtonPressed(
                platform="console",
                space_id="",
                actor=_dana(),
                at=at,
                channel_id="dana",
                message_id="1",
                action_id=button,
                private=True,
            )
        )


async def test_forgetme_in_a_private_chat_asks_which_community_and_forgets_only_that_one(
    config: Config,
) -> None:
    console = await _console(config)
    try:
        home, annex = await _two_communities(console)
        # The last community that wrote to her privately is the one the chat is about;
        # after a restart nothing is, and she is asked.
        await _private(console, command="forgetme")
        assert "stored about you in Second Club" in console.last_text()
        await console.restart()
        directory = console.app.directory
        await _private(console, command="forgetme")
        assert console.last_text().startswith(
            "You are in several communities. Which one is this about?"
        )
        choices = {b.label: b.action_id for b in _last_buttons(console)}
        assert set(choices) == {"Test Community", "Second Club"}
        await _private(console, button=choices["Second Club"])
        assert "stored about you in Second Club" in console.last_text()
        confirm = next(b for b in _last_buttons(console) if b.style == "danger")
        # From now on the chat is about the second club; the button says so too.
        await _private(console, button=confirm.action_id)
        assert "everything stored about you here is deleted" in console.last_text()
        assert directory.member(annex, "console", "dana") is None
        assert directory.member(home, "console", "dana") is not None
    finally:
        await console.stop()


async def test_a_button_in_a_private_chat_belongs_to_the_community_that_sent_it(
    config: Config,
) -> None:
    console = await _console(config)
    try:
        home, annex = await _two_communities(console)
        # Dana got both private welcomes; she accepts the second club's rules.
        welcomes = [b for b, _ in console.adapter.buttons]
        assert welcomes, "the last private welcome has its accept button"
        accept = welcomes[0].action_id
        assert accept.endswith(f"|{annex}")
        await _private(console, button=accept)
        directory = console.app.directory
        dana_annex = directory.member(annex, "console", "dana")
        dana_home = directory.member(home, "console", "dana")
        assert dana_annex is not None and dana_home is not None
        async with UnitOfWork(console.app.services.db) as uow:
            repo = uow.repo(OnboardingRepo)
            accepted_annex = await repo.state(dana_annex.id)
            accepted_home = await repo.state(dana_home.id)
        assert accepted_annex is not None and accepted_annex.accepted_at is not None
        assert accepted_home is not None and accepted_home.accepted_at is None
    finally:
        await console.stop()


async def test_reading_or_deleting_your_data_never_creates_a_member(config: Config) -> None:
    console = await _console(config)
    try:
        await console.run("/join dana\n/as dana\n/forgetme\n/click 1")
        assert "everything stored about you here is deleted" in console.last_text()
        directory = console.app.directory
        community = directory.community_of("console", "console")
        assert community is not None
        # The other button of the finished choice, /mydata and /forgetme again: all
        # answer honestly, and none brings a member record back.
        await console.run("/click 2")  # "No, keep it", tapped before the buttons closed
        assert console.last_text() == (
            "You already answered this. Pressing it again changes nothing."
        )
        await console.run("/mydata")
        assert console.last_text() == "There is nothing stored about you here."
        await console.run("/forgetme")
        assert console.last_text() == "There is nothing stored about you here."
        assert directory.member(community.id, "console", "dana") is None
        async with UnitOfWork(console.app.services.db) as uow:
            assert await uow.members.find(community.id, "console", "dana") is None
        # Writing again makes her a member afresh, as the deletion said.
        await console.run("hello again")
        assert directory.member(community.id, "console", "dana") is not None
    finally:
        await console.stop()


@dataclass
class Ledger:
    """What the bookkeepers noted in memory after their commits."""

    noted: list[str] = field(default_factory=list)


def _bookkeepers(*, first_fails: bool = False) -> Feature:
    """Two late handlers of a join, in two features' manner: each stores a setting,
    notes it in memory after the commit and posts a line."""
    books = Router()

    def keeper(key: str, fails: bool) -> Any:
        async def keep(ctx: Context, event: MemberJoined) -> None:
            assert ctx.community is not None and ctx.member is not None
            await ctx.uow.settings.set(ctx.community.id, key, ctx.member.display_name)
            noted = ctx.state(Ledger).noted
            ctx.after_commit(lambda: noted.append(key))
            ctx.act(Send(platform="console", space_id="console", channel_id="", text=ctx._(key)))
            if fails:
                raise RuntimeError("the ledger is full")

        return keep

    books.on(MemberJoined, late=True)(keeper("books.first", first_fails))
    books.on(MemberJoined, late=True)(keeper("books.second", False))
    return Feature(
        "books",
        delete_member_data=_nothing,
        merge_member_data=_no_merge,
        states=(lambda s: Ledger(),),
    ).include(books)


async def _stored(console: ConsoleCommunity) -> dict[str, Any]:
    community = console.app.directory.community_of("console", "console")
    assert community is not None
    async with UnitOfWork(console.app.services.db) as uow:
        return await uow.settings.of(community.id)


async def test_the_late_handlers_of_a_join_share_one_commit(config: Config) -> None:
    commits: list[int] = []
    plain = await _console(config)
    booked = await _console(config, _bookkeepers())
    try:
        # One database for both: each console's own newcomers.
        for console, warmup, newcomer in ((plain, "avi", "dana"), (booked, "gil", "noa")):
            await console.run(f"/join {warmup}")  # the first join warms the caches
            engine = console.app.services.db.engine.sync_engine
            count = [0]

            def counted(_conn: Any, count: list[int] = count) -> None:
                count[0] += 1

            sql_event.listen(engine, "commit", counted)
            await console.run(f"/join {newcomer}")
            sql_event.remove(engine, "commit", counted)
            commits.append(count[0])
        stored = await _stored(booked)
        assert stored["books.first"] == stored["books.second"] == "noa"
        assert booked.app.services.state(Ledger).noted == ["books.first", "books.second"] * 2
        # Two more features' writes after a join, and not one commit more for them.
        assert commits[1] == commits[0]
    finally:
        await plain.stop()
        await booked.stop()


async def test_a_failing_late_handler_loses_nothing_of_the_others(config: Config) -> None:
    console = await _console(config, _bookkeepers(first_fails=True))
    try:
        await console.run("/join dana")
        stored = await _stored(console)
        assert "books.first" not in stored
        assert stored["books.second"] == "dana"
        assert console.app.services.state(Ledger).noted == ["books.second"]
        texts = [p.text for p in console.performed]
        assert "books.second" in texts and "books.first" not in texts
        # The features' own late bookkeeping of the join went through as well.
        member = member_ref(console, "dana")
        async with UnitOfWork(console.app.services.db) as uow:
            row = await uow.members.get(member.id)
            assert row is not None and row.joined_at is not None
    finally:
        await console.stop()
