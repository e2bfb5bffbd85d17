"""The adapter under the real core: App, dispatcher, features, SQLite."""

from __future__ import annotations

from datetime import UTC, datetime

from dc_harness import DANA, GENERAL, GUILD, WELCOME, Harness, command, member_add, payload

from bot.actions import Reply, SendDirect
from bot.app import App
from bot.events import Actor, MessagePosted
from bot.features.engagement.chart import lays_out_rtl
from bot.i18n import gettext
from bot.markup import Text

GLOBAL = "/applications/{application_id}/commands"
FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
MESSAGES = "/channels/{channel_id}/messages"


async def test_the_owner_sets_up_the_server_and_a_member_cannot_configure_it(
    core: tuple[App, Harness],
) -> None:
    app, bot = core
    published = {c["name"]: c for c in bot.api.find("PUT", GLOBAL)[-1].json}
    assert "setup" in published and published["config"]["default_member_permissions"] == "32"

    bot.gateway("GUILD_CREATE", payload("guild_create"))
    await bot.settle()
    setup = command("setup", [{"type": 3, "name": "name", "value": "Café Friends"}], by={})
    bot.gateway("INTERACTION_CREATE", setup)
    await bot.settle()
    assert app.directory.community_of("discord", GUILD) is not None
    answered = bot.api.find("POST", FOLLOWUP) + bot.api.find("POST", MESSAGES)
    assert any((c.content or "").startswith("**Café Friends** is set up") for c in answered)

    # Discord would hide /config from Dana; if she calls it anyway the core says no.
    dana = {
        "user": {**setup["member"]["user"], "id": DANA, "username": "dana.levi"},
        "permissions": "2222085186636353",  # no Manage Server
    }
    before = len(bot.api.calls)
    show = command("config", [{"type": 1, "name": "show", "options": []}], by=dana)
    show["id"] = "600000000000000077"
    bot.gateway("INTERACTION_CREATE", show)
    await bot.settle()
    replies = [c for c in bot.api.calls[before:] if c.route == FOLLOWUP]
    assert len(replies) == 1 and replies[0].json["flags"] & 64  # private to her
    assert replies[0].content == "Only owners can use /config. Nothing was changed."


async def test_setup_from_a_german_client_makes_a_german_community_on_berlin_time(
    core: tuple[App, Harness],
) -> None:
    """/setup takes the language of the owner's Discord client (the interaction's
    locale) and the time zone of its country, and says so, in that language."""
    app, bot = core
    bot.gateway("GUILD_CREATE", payload("guild_create"))
    await bot.settle()
    setup = command(
        "setup", [{"type": 3, "name": "name", "value": "Café Freunde"}], by={}, locale="de"
    )
    bot.gateway("INTERACTION_CREATE", setup)
    await bot.settle()
    info = app.directory.community_of("discord", GUILD)
    assert info is not None and (info.locale, info.timezone) == ("de", "Europe/Berlin")
    answered = bot.api.find("POST", FOLLOWUP) + bot.api.find("POST", MESSAGES)
    [reply] = [c.content for c in answered if "Café Freunde" in (c.content or "")]
    assert reply.startswith("**Café Freunde** ist eingerichtet und gehört jetzt dir.")
    assert "Sprache: Deutsch (nach der Sprache deiner App)" in reply
    assert "Zeitzone: Europe/Berlin (nach der Sprache deiner App)" in reply
    assert "Ändern mit /config set locale" in reply and "Ändern mit /config set timezone" in reply


# --- private messages the platform refuses: the core's fallback ----------------------


def direct(**kw: object) -> SendDirect:
    return SendDirect(
        platform="discord",
        user_id=DANA,
        text=Text.of("Your invite link: https://discord.gg/abc"),
        **kw,  # type: ignore[arg-type]
    )


async def _in_guild(bot: Harness) -> None:
    bot.gateway("GUILD_CREATE", payload("guild_create"))
    await bot.settle()


async def test_a_direct_message_to_closed_dms_is_posted_in_the_channel_with_a_mention(
    core: tuple[App, Harness],
) -> None:
    app, bot = core
    await _in_guild(bot)
    bot.api.closed_dms.add(DANA)
    result = await app.services.delivery.perform(
        direct(fallback_space_id=GUILD, fallback_channel_id=WELCOME)
    )
    assert result.ok and result.fell_back and not result.pending

    sent = bot.api.find("POST", MESSAGES)
    assert [c.params["channel_id"] for c in sent] == ["41" + DANA[2:], WELCOME]
    fallback = sent[-1]
    assert fallback.content is not None
    assert fallback.content.startswith(f"<@{DANA}>, I could not send you a direct message")
    assert "Your invite link: https://discord.gg/abc" in fallback.content
    assert fallback.json["allowed_mentions"]["users"] == [int(DANA)]
    assert fallback.json["allowed_mentions"]["parse"] == []


async def test_a_direct_message_without_a_fallback_reports_dm_closed(
    core: tuple[App, Harness],
) -> None:
    app, bot = core
    await _in_guild(bot)
    bot.api.closed_dms.add(DANA)
    result = await app.services.delivery.perform(direct())
    assert (result.ok, result.error) == (False, "dm_closed")
    assert len(bot.api.find("POST", MESSAGES)) == 1


async def test_the_fallback_goes_to_the_main_channel_in_the_communitys_language(
    core: tuple[App, Harness],
) -> None:
    app, bot = core
    await _in_guild(bot)
    bot.api.closed_dms.add(DANA)
    result = await app.services.delivery.perform(direct(fallback_space_id=GUILD, locale="de"))
    assert result.ok and result.fell_back
    fallback = bot.api.find("POST", MESSAGES)[-1]
    assert fallback.params["channel_id"] == WELCOME  # the system channel, not the DM
    german = gettext("de", "{mention}, I could not send you a direct message, so here it is:")
    assert german != "{mention}, I could not send you a direct message, so here it is:"
    assert fallback.content is not None
    assert fallback.content.startswith(german.replace("{mention}", f"<@{DANA}>"))


async def test_a_private_answer_to_a_message_falls_back_to_its_channel(
    core: tuple[App, Harness],
) -> None:
    """Outside interactions Discord has no ephemeral answers: a private reply is a
    DM, and with DMs closed it is posted where the member wrote, with a mention."""
    app, bot = core
    await _in_guild(bot)
    bot.api.closed_dms.add(DANA)
    said = MessagePosted(
        platform="discord",
        space_id=GUILD,
        actor=Actor(user_id=DANA, display_name="Dana"),
        at=datetime.now(UTC),
        channel_id=GENERAL,
        message_id="500000000000000077",
        text="what are my stats?",
    )
    reply = Reply(platform="discord", to=said, text=Text.of("Messages: 3"), private=True)
    result = await app.services.delivery.perform(reply)
    assert result.ok and result.fell_back
    posted = bot.api.find("POST", MESSAGES)[-1]
    assert posted.params["channel_id"] == GENERAL
    assert posted.content == (
        f"<@{DANA}>, I could not send you a direct message, so here it is:\nMessages: 3"
    )


async def test_the_digest_comes_with_its_chart_attached_as_a_png(
    core: tuple[App, Harness],
) -> None:
    """`/digest now`: the owner's private answer carries the digest and the chart as a
    .png file on the same message, which Discord shows inline as an image."""
    _app, bot = core
    # matplotlib's first import and font load, outside the harness's wait for handlers.
    lays_out_rtl()
    bot.gateway("GUILD_CREATE", payload("guild_create"))
    await bot.settle()
    setup = command("setup", [{"type": 3, "name": "name", "value": "Café Friends"}], by={})
    bot.gateway("INTERACTION_CREATE", setup)
    await bot.settle()
    before = len(bot.api.calls)
    digest = command("digest", [{"type": 1, "name": "now", "options": []}], by={})
    digest["id"] = "600000000000000078"
    bot.gateway("INTERACTION_CREATE", digest)
    await bot.settle()
    [answer] = [c for c in bot.api.calls[before:] if c.route == FOLLOWUP]
    assert answer.json["flags"] & 64  # only the owner sees it
    assert (answer.content or "").startswith("📊 **Weekly digest of Café Friends**")
    [chart] = answer.files
    assert chart.startswith("digest-") and chart.endswith(".png")


# --- {inviter}: who made the invite a member came through --------------------------


async def test_the_welcome_names_who_made_the_invite_only_when_that_is_certain(
    core: tuple[App, Harness],
) -> None:
    _app, bot = core
    yossi = {"id": "200000000000000002", "username": "yossi", "global_name": "Yossi"}
    noa = {"id": "200000000000000001", "username": "noa.owner", "global_name": "Noa"}
    bot.api.add_invite(GUILD, "yossiFriends", uses=3, inviter=yossi)
    bot.api.add_invite(GUILD, "noaLunch", uses=10, inviter=noa)
    bot.gateway("GUILD_CREATE", payload("guild_create"))
    await bot.settle()
    for i, (name, options) in enumerate(
        [
            ("setup", [{"type": 3, "name": "name", "value": "Café Friends"}]),
            (
                "onboarding",
                [
                    {
                        "type": 1,
                        "name": "set",
                        "options": [
                            {"type": 3, "name": "template", "value": "welcome"},
                            {
                                "type": 3,
                                "name": "text",
                                "value": "Hi {member}, {inviter} invited you!",
                            },
                        ],
                    }
                ],
            ),
        ]
    ):
        data = command(name, options, by={})
        data["id"] = f"60000000000000020{i}"
        bot.gateway("INTERACTION_CREATE", data)
        await bot.settle()

    def welcomes(since: int) -> list[str]:
        return [
            c.content or ""
            for c in bot.api.calls[since:]
            if c.route == MESSAGES and c.params["channel_id"] == WELCOME
        ]

    mark = len(bot.api.calls)
    bot.api.use_invite(GUILD, "yossiFriends")
    bot.gateway("GUILD_MEMBER_ADD", member_add(DANA, "Dana"))
    await bot.settle()
    assert welcomes(mark) == [f"Hi <@{DANA}>, Yossi invited you!"]

    # Noa is a member here: her name as the community knows it.
    mark = len(bot.api.calls)
    bot.api.use_invite(GUILD, "noaLunch")
    bot.gateway("GUILD_MEMBER_ADD", member_add("200000000000000021", "Avi"))
    await bot.settle()
    assert welcomes(mark) == ["Hi <@200000000000000021>, Noa invited you!"]

    # Two joins at once through different invites: nobody is named.
    mark = len(bot.api.calls)
    bot.api.use_invite(GUILD, "yossiFriends")
    bot.api.use_invite(GUILD, "noaLunch")
    bot.gateway("GUILD_MEMBER_ADD", member_add("200000000000000022", "Rina"))
    bot.gateway("GUILD_MEMBER_ADD", member_add("200000000000000023", "Gil"))
    await bot.settle()
    assert sorted(welcomes(mark)) == [
        "Hi <@200000000000000022>, a friend invited you!",
        "Hi <@200000000000000023>, a friend invited you!",
    ]


# --- /export: one slash command shared by engagement and referrals -----------------


async def test_export_is_published_once_with_the_subcommands_of_both_features(
    core: tuple[App, Harness],
) -> None:
    """Discord gets one `/export` with `referrals` and `activity`, and `/referrals`
    as subcommands only (Discord cannot mix them with options: `show member:` there);
    `/export referrals` answers with the CSV."""
    _app, bot = core
    published = bot.api.find("PUT", GLOBAL)[-1].json
    assert [c["name"] for c in published].count("export") == 1
    (export,) = [c for c in published if c["name"] == "export"]
    assert [(o["type"], o["name"]) for o in export["options"]] == [
        (1, "referrals"),
        (1, "activity"),
    ]
    assert export["default_member_permissions"] == "32"  # owners: Manage Server
    (referrals,) = [c for c in published if c["name"] == "referrals"]
    assert {o["type"] for o in referrals["options"]} == {1}  # subcommands, nothing else
    show = next(o for o in referrals["options"] if o["name"] == "show")
    assert [o["name"] for o in show["options"]] == ["member"]

    bot.gateway("GUILD_CREATE", payload("guild_create"))
    await bot.settle()
    setup = command("setup", [{"type": 3, "name": "name", "value": "Café Friends"}], by={})
    bot.gateway("INTERACTION_CREATE", setup)
    await bot.settle()
    before = len(bot.api.calls)
    csv = command("export", [{"type": 1, "name": "referrals", "options": []}], by={})
    csv["id"] = "600000000000000079"
    bot.gateway("INTERACTION_CREATE", csv)
    await bot.settle()
    [answer] = [c for c in bot.api.calls[before:] if c.route == FOLLOWUP]
    assert answer.json["flags"] & 64
    assert (answer.content or "").endswith("with their inviters where known, as CSV.")
    [file] = answer.files
    assert file.startswith("referrals-") and file.endswith(".csv")
