"""Slash commands and buttons: deferred at once, answered as follow-ups, and
buttons that keep working after the client is rebuilt."""

from __future__ import annotations

from dc_fakeapi import FakeDiscord
from dc_harness import DANA, GUILD, WELCOME, Harness, payload

from adapters.discord.inbound import DONE
from bot.actions import AnswerButton, Button, Reply, Send
from bot.commands import CommandSpec, OptionSpec, Permission
from bot.events import ButtonPressed, CommandInvoked, Event
from bot.markup import Text

EVENT = CommandSpec(
    name="event",
    description="Plan community events",
    permission=Permission.OWNER,
    subcommands=(
        CommandSpec(
            name="create",
            description="Create an event",
            permission=Permission.OWNER,
            options=(
                OptionSpec("title", "What the event is called"),
                OptionSpec("seats", "How many can come", type="integer"),
                OptionSpec("public", "Announce it", type="boolean", required=False),
            ),
        ),
    ),
)
CALLBACK = "/interactions/{webhook_id}/{webhook_token}/callback"
FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
ORIGINAL = "/webhooks/{webhook_id}/{webhook_token}/messages/@original"


def reply(text: str, *, private: bool) -> object:
    def respond(event: Event) -> list[Reply]:
        return [Reply(platform="discord", to=event, text=Text.of(text), private=private)]

    return respond


async def test_a_slash_command_is_deferred_then_answered_as_a_follow_up(
    discord_bot: Harness,
) -> None:
    bot = discord_bot
    await bot.adapter.publish_commands([EVENT])
    bot.core.respond = lambda e: [
        Reply(
            platform="discord",
            to=e,
            text=Text.of("Created: ", dict(e.options)["title"]),
            private=True,
        )
    ]
    bot.gateway("INTERACTION_CREATE", payload("interaction_command"))

    invoked = await bot.core.next(CommandInvoked)
    assert invoked.name == "event"
    # The subcommand path, then the values in the order the spec declares them.
    assert invoked.args == ("create", "Spring **lunch**", "12", "true")
    assert invoked.options == (("title", "Spring **lunch**"), ("seats", "12"), ("public", "true"))
    assert invoked.space_id == GUILD and invoked.private is False
    assert invoked.actor is not None and invoked.actor.is_platform_admin is True
    assert invoked.actor.language == "de"
    await bot.settle()

    answer = [c for c in bot.api.calls if c.route in (CALLBACK, FOLLOWUP, ORIGINAL)]
    assert [(c.method, c.route) for c in answer] == [("POST", CALLBACK), ("POST", FOLLOWUP)]
    defer, follow_up = answer
    assert defer.json == {"type": 5, "data": {"flags": 64}}  # ephemeral "thinking…"
    assert follow_up.content == "Created: Spring \\*\\*lunch\\*\\*"
    assert follow_up.json["flags"] & 64
    assert bot.core.results[0].ok


async def test_a_command_the_core_does_not_answer_is_closed_with_done(
    discord_bot: Harness,
) -> None:
    bot = discord_bot
    data = payload("interaction_command", locale="en-US")
    bot.gateway("INTERACTION_CREATE", data)
    await bot.core.next(CommandInvoked)
    await bot.settle()

    closing = bot.api.find("PATCH", ORIGINAL)
    assert [c.content for c in closing] == [DONE]


async def test_a_public_answer_to_a_command_is_posted_in_the_channel(discord_bot: Harness) -> None:
    bot = discord_bot
    bot.core.respond = reply("Lunch is on Thursday", private=False)
    bot.gateway("INTERACTION_CREATE", payload("interaction_command"))
    await bot.core.next(CommandInvoked)
    await bot.settle()

    assert bot.api.find("DELETE", ORIGINAL), "the private 'thinking…' is removed"
    posted = bot.api.find("POST", "/channels/{channel_id}/messages")
    assert [(c.params["channel_id"], c.content) for c in posted] == [
        ("400000000000000001", "Lunch is on Thursday")
    ]
    assert not bot.api.find("PATCH", ORIGINAL)


async def test_a_button_pressed_after_the_client_was_rebuilt(api: FakeDiscord) -> None:
    first = await Harness(api).open()
    await first.join_guild()
    sent = await first.adapter.perform(
        Send(
            platform="discord",
            space_id=GUILD,
            channel_id=WELCOME,
            text=Text.of("Welcome, Dana! Coming on Thursday?"),
            buttons=(Button("Going", "events:rsvp:42", "primary"),),
        )
    )
    components = api.find("POST", "/channels/{channel_id}/messages")[-1].json["components"]
    assert components[0]["components"][0]["custom_id"] == "events:rsvp:42"
    await first.close()

    # A new process: a new client and adapter, nothing remembered from before.
    second = await Harness(api).open()
    await second.join_guild()
    second.core.respond = lambda e: [
        AnswerButton(platform="discord", to=e, text="You're in!")  # type: ignore[arg-type]
    ]
    press = payload("interaction_button", data={"custom_id": "events:rsvp:42", "component_type": 2})
    press["message"] = {**press["message"], "id": sent.message_id, "components": components}
    second.gateway("INTERACTION_CREATE", press)

    pressed = await second.core.next(ButtonPressed)
    assert pressed.action_id == "events:rsvp:42"
    assert pressed.message_id == sent.message_id
    assert pressed.actor is not None and pressed.actor.user_id == DANA
    await second.settle()
    defer = api.find("POST", CALLBACK)[-1]
    assert defer.json == {"type": 6}  # acknowledged without a visible "thinking…"
    note = api.find("POST", FOLLOWUP)[-1]
    assert note.content == "You're in!" and note.json["flags"] & 64
    await second.close()
