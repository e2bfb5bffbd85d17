"""Gateway payloads in, core events out: joins and their invite, screening,
messages, reactions, leaves, RSVPs and the bot joining a server."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import discord
import pytest
from dc_fakeapi import FLAGS_NO_MESSAGE_CONTENT, FakeDiscord
from dc_harness import DANA, GENERAL, GUILD, THREAD, Harness, member_add, payload

from bot.actions import CreateInvite, Kick, SyncScheduledEvent
from bot.events import (
    Event,
    ExternalRsvp,
    InviteCreated,
    InviteDeleted,
    MemberJoined,
    MemberLeft,
    MemberScreeningPassed,
    MessagePosted,
    ReactionAdded,
    SpaceAdded,
    SpaceRemoved,
)

YOSSI = {"id": "200000000000000002", "username": "yossi", "global_name": "Yossi"}
NOA_USER = {"id": "200000000000000001", "username": "noa.owner", "global_name": "Noa"}


async def _guild_with_invites(api: FakeDiscord, **guild: object) -> Harness:
    api.add_invite(GUILD, "yossiFriends", uses=3, inviter=YOSSI)
    api.add_invite(GUILD, "noaLunch", uses=10, inviter=NOA_USER)
    harness = await Harness(api).open()
    await harness.join_guild(**guild)
    return harness


async def test_a_join_through_one_invite_is_attributed_exactly(api: FakeDiscord) -> None:
    bot = await _guild_with_invites(api)
    api.use_invite(GUILD, "yossiFriends")
    bot.gateway("GUILD_MEMBER_ADD", member_add(DANA, "Dana"))

    joined = await bot.core.next(MemberJoined)
    assert (joined.invite_code, joined.confidence) == ("yossiFriends", "exact")
    assert joined.candidate_codes == ()
    # Exact: the invite's creator, for onboarding's {inviter}.
    assert (joined.inviter_user_id, joined.inviter_name) == ("200000000000000002", "Yossi")
    assert joined.actor is not None and joined.actor.display_name == "Dana"
    assert joined.pending is False
    await bot.close()


async def test_the_code_of_an_invite_the_bot_made_is_the_code_of_a_join_through_it(
    discord_bot: Harness,
) -> None:
    made = await discord_bot.adapter.perform(
        CreateInvite(platform="discord", space_id=GUILD, channel_id=None, name="Dana's invite")
    )
    assert made.ok and made.invite_code
    assert made.value == f"https://discord.gg/{made.invite_code}"  # the URL to share, apart
    discord_bot.api.use_invite(GUILD, made.invite_code)  # someone opens that URL
    discord_bot.gateway("GUILD_MEMBER_ADD", member_add(DANA, "Dana"))
    joined = await discord_bot.core.next(MemberJoined)
    assert (joined.invite_code, joined.confidence) == (made.invite_code, "exact")
    assert joined.inviter_user_id is None  # the bot made it: nobody to name


async def test_two_joins_racing_through_different_invites_are_ambiguous(
    api: FakeDiscord,
) -> None:
    bot = await _guild_with_invites(api)
    # Both members joined before the bot looked at the counts.
    api.use_invite(GUILD, "yossiFriends")
    api.use_invite(GUILD, "noaLunch")
    bot.gateway("GUILD_MEMBER_ADD", member_add("200000000000000021", "Avi"))
    bot.gateway("GUILD_MEMBER_ADD", member_add("200000000000000022", "Rina"))

    first = await bot.core.next(MemberJoined)
    second = await bot.core.next(MemberJoined)
    for joined in (first, second):
        assert joined.confidence == "ambiguous"
        assert joined.invite_code is None
        assert joined.candidate_codes == ("noaLunch", "yossiFriends")
        assert (joined.inviter_user_id, joined.inviter_name) == (None, None)  # not a guess
        # Who made each candidate, for the owner who decides.
        assert joined.candidate_makers == (
            ("noaLunch", "200000000000000001", "Noa"),
            ("yossiFriends", "200000000000000002", "Yossi"),
        )
    await bot.close()


async def test_two_joins_racing_through_the_same_invite_are_both_exact(api: FakeDiscord) -> None:
    bot = await _guild_with_invites(api)
    api.use_invite(GUILD, "noaLunch")
    api.use_invite(GUILD, "noaLunch")
    bot.gateway("GUILD_MEMBER_ADD", member_add("200000000000000021", "Avi"))
    bot.gateway("GUILD_MEMBER_ADD", member_add("200000000000000022", "Rina"))

    for _ in range(2):
        joined = await bot.core.next(MemberJoined)
        assert (joined.invite_code, joined.confidence) == ("noaLunch", "exact")
        assert joined.inviter_name == "Noa"
    await bot.close()


async def test_a_join_through_the_vanity_url(api: FakeDiscord) -> None:
    api.set_vanity(GUILD, "cafe", uses=40)
    features = ["COMMUNITY", "VANITY_URL"]
    bot = await _guild_with_invites(api, features=features, vanity_url_code="cafe")
    api.use_invite(GUILD, "cafe")
    bot.gateway("GUILD_MEMBER_ADD", member_add(DANA, "Dana"))

    joined = await bot.core.next(MemberJoined)
    assert (joined.invite_code, joined.confidence) == ("cafe", "vanity")
    assert joined.inviter_user_id is None  # the vanity URL is nobody's
    await bot.close()


async def test_a_single_use_invite_that_vanished_credits_its_creator(api: FakeDiscord) -> None:
    api.add_invite(GUILD, "once", uses=0, max_uses=1, inviter=YOSSI)
    bot = await _guild_with_invites(api)
    api.use_invite(GUILD, "once")  # Discord deletes it on use
    bot.gateway("INVITE_DELETE", payload("invite_delete", code="once"))
    await bot.core.next(InviteDeleted)
    bot.gateway("GUILD_MEMBER_ADD", member_add(DANA, "Dana"))

    joined = await bot.core.next(MemberJoined)
    assert (joined.invite_code, joined.confidence) == ("once", "exact")
    assert (joined.inviter_user_id, joined.inviter_name) == ("200000000000000002", "Yossi")
    await bot.close()


async def test_a_single_use_invite_gone_before_its_delete_event_credits_its_creator(
    api: FakeDiscord,
) -> None:
    api.add_invite(GUILD, "once", uses=0, max_uses=1, inviter=YOSSI)
    bot = await _guild_with_invites(api)
    api.use_invite(GUILD, "once")  # the join is seen before INVITE_DELETE
    bot.gateway("GUILD_MEMBER_ADD", member_add(DANA, "Dana"))

    joined = await bot.core.next(MemberJoined)
    assert (joined.invite_code, joined.confidence) == ("once", "exact")
    assert joined.inviter_name == "Yossi"
    await bot.close()


async def test_a_deleted_invite_with_uses_left_credits_nobody(api: FakeDiscord) -> None:
    api.add_invite(GUILD, "five", uses=0, max_uses=5, inviter=YOSSI)
    bot = await _guild_with_invites(api)
    del api.invites[GUILD]["five"]  # an owner revoked it
    bot.gateway("INVITE_DELETE", payload("invite_delete", code="five"))
    await bot.core.next(InviteDeleted)
    bot.gateway("GUILD_MEMBER_ADD", member_add(DANA, "Dana"))

    joined = await bot.core.next(MemberJoined)
    assert (joined.invite_code, joined.confidence) == (None, "unknown")
    await bot.close()


async def test_invites_created_after_start_are_tracked(api: FakeDiscord) -> None:
    bot = await _guild_with_invites(api)
    bot.gateway("INVITE_CREATE", payload("invite_create"))
    created = await bot.core.next(InviteCreated)
    assert (created.code, created.creator_user_id) == ("noaFriends", "200000000000000002")
    assert created.max_uses is None

    api.add_invite(GUILD, "noaFriends", uses=1)  # the server's view after one join
    bot.gateway("GUILD_MEMBER_ADD", member_add(DANA, "Dana"))
    joined = await bot.core.next(MemberJoined)
    assert (joined.invite_code, joined.confidence) == ("noaFriends", "exact")
    assert joined.inviter_name == "Yossi"  # from the INVITE_CREATE event
    await bot.close()


async def test_a_pending_member_is_reported_pending_then_passing_screening(
    discord_bot: Harness,
) -> None:
    bot = discord_bot
    bot.gateway("GUILD_MEMBER_ADD", member_add(DANA, "Dana", pending=True))
    joined = await bot.core.next(MemberJoined)
    assert joined.pending is True

    still_pending = payload("member_update", pending=True, nick="Dana L.")
    bot.gateway("GUILD_MEMBER_UPDATE", still_pending)
    bot.gateway("GUILD_MEMBER_UPDATE", payload("member_update", pending=False))
    passed = await bot.core.next(MemberScreeningPassed)
    assert passed.space_id == GUILD
    assert passed.actor is not None and passed.actor.user_id == DANA

    # Later updates (a nickname, a role) are not a second screening.
    bot.gateway("GUILD_MEMBER_UPDATE", payload("member_update", pending=False, nick="D"))
    bot.gateway("GUILD_MEMBER_REMOVE", payload("member_remove"))
    await bot.core.next(MemberLeft)
    assert [type(e).__name__ for e in bot.core.events[1:]] == [
        "MemberJoined",
        "MemberScreeningPassed",
        "MemberLeft",
    ]


async def test_a_message_with_a_reply_in_a_thread(discord_bot: Harness) -> None:
    discord_bot.gateway("MESSAGE_CREATE", payload("message_reply_in_thread"))
    posted = await discord_bot.core.next(MessagePosted)
    assert posted.text == "Yes! The hummus place on Allenby."
    assert posted.thread_id == THREAD and posted.channel_id == GENERAL
    assert posted.reply_to_message_id == "500000000000000002"
    assert posted.reply_to_user_id == "200000000000000002"
    assert posted.reply_to_text == "Where do we eat on Thursday?"  # the digest: a question
    assert posted.actor is not None and posted.actor.display_name == "Dana L."
    assert posted.actor.is_platform_admin is False


async def test_a_message_is_dated_when_discord_says_it_was_sent(discord_bot: Harness) -> None:
    pinned = payload("message_create", id="500000000000000007", type=6)  # "X pinned a message"
    discord_bot.gateway("MESSAGE_CREATE", pinned)  # Discord's own notice: not chat
    discord_bot.gateway("MESSAGE_CREATE", payload("message_create", id="1180000000000000001"))
    posted = await discord_bot.core.next(MessagePosted)
    assert posted.message_id == "1180000000000000001"
    assert posted.at == discord.utils.snowflake_time(1180000000000000001)
    assert posted.at == datetime(2023, 12, 1, 4, 18, 43, 339000, tzinfo=UTC)


async def test_a_core_that_fails_on_a_message_leaves_the_gateway_reading(
    discord_bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    # The message is handed over inside discord.py's parser: an error there must not
    # reach the gateway's reader, or the connection would drop.
    sink = discord_bot.adapter.inbound.sink

    def broken(event: Event) -> None:
        raise RuntimeError("core bug")

    discord_bot.adapter.inbound.sink = broken
    with caplog.at_level(logging.ERROR):
        discord_bot.gateway("MESSAGE_CREATE", payload("message_create", id="500000000000000011"))
    assert any(
        "could not read message 500000000000000011" in r.getMessage() for r in caplog.records
    )
    discord_bot.adapter.inbound.sink = sink
    discord_bot.gateway("MESSAGE_CREATE", payload("message_create", id="500000000000000012"))
    posted = await discord_bot.core.next(MessagePosted)
    assert posted.message_id == "500000000000000012"


async def test_the_owner_counts_as_platform_admin(discord_bot: Harness) -> None:
    owner = payload("message_create")
    owner["author"] = {**owner["author"], "id": "200000000000000001", "username": "noa"}
    discord_bot.gateway("MESSAGE_CREATE", owner)
    posted = await discord_bot.core.next(MessagePosted)
    assert posted.actor is not None and posted.actor.is_platform_admin is True


async def test_without_the_message_content_intent_text_is_withheld(api: FakeDiscord) -> None:
    api.app_flags = FLAGS_NO_MESSAGE_CONTENT
    bot = await Harness(api).open()
    await bot.join_guild()
    assert bot.adapter.capabilities.message_content is False
    assert bot.adapter.client.intents.message_content is False
    assert bot.adapter.client.intents.members is True

    bot.gateway("MESSAGE_CREATE", payload("message_create", content=""))
    posted = await bot.core.next(MessagePosted)
    assert posted.text is None  # withheld, not an empty message
    await bot.close()


async def test_own_messages_are_ignored(discord_bot: Harness) -> None:
    own = payload("message_create", content="Welcome!", id="500000000000000099")
    own["author"] = {**own["author"], "id": "900000000000000001", "bot": True}
    discord_bot.gateway("MESSAGE_CREATE", own)
    discord_bot.gateway("MESSAGE_CREATE", payload("message_create"))
    posted = await discord_bot.core.next(MessagePosted)
    assert posted.message_id == "500000000000000001"


async def test_a_reaction_names_the_author_of_the_message(discord_bot: Harness) -> None:
    discord_bot.gateway("MESSAGE_REACTION_ADD", payload("reaction_add"))
    reaction = await discord_bot.core.next(ReactionAdded)
    assert reaction.emoji == "🎉"
    assert reaction.message_author_id == "200000000000000002"
    assert reaction.actor is not None and reaction.actor.user_id == DANA


async def test_a_member_kicked_by_the_bot_leaves_removed_by_bot(discord_bot: Harness) -> None:
    result = await discord_bot.adapter.perform(
        Kick(platform="discord", space_id=GUILD, user_id=DANA, reason="spam")
    )
    assert result.ok
    discord_bot.gateway("GUILD_MEMBER_REMOVE", payload("member_remove"))
    left = await discord_bot.core.next(MemberLeft)
    assert left.removed_by_bot is True


async def test_interest_in_a_discord_event_is_an_rsvp(discord_bot: Harness) -> None:
    from datetime import UTC, datetime

    made = await discord_bot.adapter.perform(
        SyncScheduledEvent(
            platform="discord",
            space_id=GUILD,
            event_key="ev:1",
            title="Spring lunch",
            starts_at=datetime(2030, 4, 2, 12, tzinfo=UTC),
            ends_at=datetime(2030, 4, 2, 14, tzinfo=UTC),
        )
    )
    assert made.value is not None
    add = payload("scheduled_event_user_add", guild_scheduled_event_id=made.value)
    discord_bot.gateway("GUILD_SCHEDULED_EVENT_USER_ADD", add)
    discord_bot.gateway("GUILD_SCHEDULED_EVENT_USER_REMOVE", add)
    going = await discord_bot.core.next(ExternalRsvp)
    gone = await discord_bot.core.next(ExternalRsvp)
    assert (going.external_event_id, going.going) == (made.value, True)
    assert going.actor is not None and going.actor.user_id == DANA
    # Only the id comes with the event: the name is asked for, never the id shown.
    assert going.actor.display_name == "Dana L."
    assert gone.going is False


async def test_the_bot_added_to_and_removed_from_a_server(api: FakeDiscord) -> None:
    bot = await Harness(api).open()
    bot.gateway("GUILD_CREATE", payload("guild_create"))
    added = await bot.core.next(SpaceAdded)
    assert (added.space_id, added.title) == (GUILD, "Café Community")
    bot.gateway("GUILD_DELETE", {"id": GUILD})
    removed = await bot.core.next(SpaceRemoved)
    assert removed.space_id == GUILD
    await bot.close()


async def test_servers_present_at_start_are_announced(api: FakeDiscord) -> None:
    """A server that added the bot while it was offline still becomes a space; the
    core ignores the announcement for spaces it knows."""
    bot = await Harness(api).open()
    bot.gateway("GUILD_CREATE", payload("guild_create", unavailable=False))
    space = await bot.core.next(SpaceAdded)
    assert space.space_id == payload("guild_create")["id"]
    await bot.close()


async def test_a_role_change_is_seen_in_who_counts_as_admin(discord_bot: Harness) -> None:
    bot = discord_bot
    bot.gateway("MESSAGE_CREATE", payload("message_create"))
    before = await bot.core.next(MessagePosted)
    assert before.actor is not None and before.actor.is_platform_admin is False

    everyone = payload("guild_create")["roles"][0]
    manage_server = str(int(everyone["permissions"]) | 32)
    bot.gateway(
        "GUILD_ROLE_UPDATE", {"guild_id": GUILD, "role": {**everyone, "permissions": manage_server}}
    )
    await bot.settle()
    bot.gateway("MESSAGE_CREATE", payload("message_create", id="500000000000000007"))
    after = await bot.core.next(MessagePosted)
    assert after.actor is not None and after.actor.is_platform_admin is True
