"""An in-memory Discord REST API for the adapter tests.

It replaces the two places discord.py talks HTTP: `HTTPClient.request` (the bot's
REST calls) and `AsyncWebhookAdapter.request` (interaction callbacks and
follow-ups). Every call is recorded as a `Call` (method, route template, path
parameters, JSON body) and answered with JSON shaped like Discord's. Errors are
raised as discord.py raises them, from a fake aiohttp response, so the adapter
sees exactly what it would see in production (`discord.Forbidden` with code
50007 for closed DMs, 50013 for missing permissions, 30016 at the invite cap).
Nothing here reaches the network.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord
import pytest
from discord.webhook.async_ import AsyncWebhookAdapter

BOT_ID = "900000000000000001"
APP_ID = BOT_ID
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.fake.token-for-tests"
BOT_USER = {
    "id": BOT_ID,
    "username": "Kehila",
    "global_name": None,
    "discriminator": "4242",
    "avatar": None,
    "bot": True,
    "public_flags": 0,
    "flags": 0,
    "verified": True,
    "mfa_enabled": True,
}
# ApplicationFlags: gateway_guild_members_limited | gateway_message_content_limited
FLAGS_ALL_INTENTS = (1 << 15) | (1 << 19)
FLAGS_NO_MESSAGE_CONTENT = 1 << 15

MAX_INVITES = 1000


@dataclass(frozen=True)
class Call:
    method: str
    route: str  # the template, e.g. "/channels/{channel_id}/messages"
    params: dict[str, str]
    json: Any
    files: tuple[str, ...] = ()
    # What the fake answered (a posted message's id, say), once handled.
    answer: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def content(self) -> str | None:
        return self.json.get("content") if isinstance(self.json, dict) else None


class _Response:
    """Enough of an aiohttp response for discord.HTTPException."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason


def error(kind: type[discord.HTTPException], status: int, code: int, message: str) -> Exception:
    return kind(_Response(status, message), {"code": code, "message": message})  # type: ignore[arg-type]


def _params(route: Any) -> dict[str, str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route.path))
    m = re.fullmatch(pattern, route.url[len(route.BASE) :])
    return dict(m.groupdict()) if m else {}


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class FakeDiscord:
    app_flags: int = FLAGS_ALL_INTENTS
    calls: list[Call] = field(default_factory=list)
    # guild id -> code -> invite payload
    invites: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    vanity: dict[str, dict[str, Any]] = field(default_factory=dict)
    closed_dms: set[str] = field(default_factory=set)
    # Role ids the API refuses to manage (a channel override the cache cannot see).
    refused_roles: set[str] = field(default_factory=set)
    commands: dict[str | None, list[dict[str, Any]]] = field(default_factory=dict)
    # Channel ids deleted on Discord (404 Unknown Channel), and those where a
    # permission override the tests do not model refuses the bot (403).
    gone_channels: set[str] = field(default_factory=set)
    refused_channels: set[str] = field(default_factory=set)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Where GET /gateway/bot sends the client's websocket.
    gateway_url: str = "wss://gateway.discord.gg"
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(800000000000000001))

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        fake = self

        async def http_request(
            http: Any, route: Any, *, files: Any = None, form: Any = None, **kwargs: Any
        ) -> Any:
            body = kwargs.get("json")
            if form:
                body = json.loads(form[0]["value"])
            return fake.handle(route, body, files or (), kwargs.get("params"))

        async def webhook_request(
            adapter: Any,
            route: Any,
            session: Any,
            *,
            payload: Any = None,
            multipart: Any = None,
            files: Any = None,
            **kwargs: Any,
        ) -> Any:
            body = payload
            if multipart:
                body = json.loads(multipart[0]["value"])
            return fake.handle(route, body, files or ())

        monkeypatch.setattr(discord.http.HTTPClient, "request", http_request)
        monkeypatch.setattr(AsyncWebhookAdapter, "request", webhook_request)

    # --- the fake server state, as tests change it ---------------------------------

    def add_invite(
        self,
        guild_id: str,
        code: str,
        uses: int = 0,
        max_uses: int = 0,
        inviter: dict[str, Any] | None = None,
    ) -> None:
        """An invite as GET /guilds/{id}/invites lists it; `inviter` is who made it."""
        extra = {"inviter": inviter} if inviter is not None else {}
        self.invites.setdefault(guild_id, {})[code] = {
            **extra,
            "code": code,
            "uses": uses,
            "max_uses": max_uses,
            "max_age": 0,
            "temporary": False,
            "created_at": _now(),
            "type": 0,
            "guild": {"id": guild_id, "name": "Café Community", "features": []},
            "channel": {"id": "400000000000000002", "name": "welcome", "type": 0},
        }

    def use_invite(self, guild_id: str, code: str) -> None:
        """A member joins through `code` (as Discord counts it, before the join event)."""
        if code == self.vanity.get(guild_id, {}).get("code"):
            self.vanity[guild_id]["uses"] += 1
            return
        invite = self.invites[guild_id][code]
        invite["uses"] += 1
        if invite["max_uses"] and invite["uses"] >= invite["max_uses"]:
            del self.invites[guild_id][code]

    def set_vanity(self, guild_id: str, code: str, uses: int) -> None:
        self.vanity[guild_id] = {"code": code, "uses": uses}

    # --- what tests read -----------------------------------------------------------

    def find(self, method: str, route: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.route == route]

    def routes(self) -> list[str]:
        return [f"{c.method} {c.route}" for c in self.calls]

    # --- the server ------------------------------------------------------------------

    def next_id(self) -> str:
        return str(next(self._ids))

    def message(self, channel_id: str, body: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
        body = body or {}
        return {
            "id": self.next_id(),
            "type": 0,
            "channel_id": channel_id,
            "author": BOT_USER,
            "content": body.get("content") or "",
            "timestamp": _now(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "flags": body.get("flags", 0),
            "components": body.get("components", []),
            **extra,
        }

    def handle(self, route: Any, body: Any, files: Any, query: Any = None) -> Any:
        """`query`: the request's query string, handed to the handler with the path's
        parameters (`with_localizations`)."""
        params = _params(route) | {k: str(v) for k, v in (query or {}).items()}
        call = Call(
            route.method,
            route.path,
            params,
            body,
            tuple(getattr(f, "filename", "") or "" for f in files),
        )
        self.calls.append(call)
        key = f"{route.method} {route.path}"
        handler = _ROUTES.get(key)
        if handler is None:
            raise AssertionError(f"the fake Discord API does not know {key}")
        answer = handler(self, params, body)
        if isinstance(answer, dict):
            call.answer.update(answer)
        return answer


def _users_me(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    return BOT_USER


def _app_info(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    return {
        "id": APP_ID,
        "name": "Kehila",
        "icon": None,
        "description": "A community bot",
        "summary": "",
        "type": None,
        "bot_public": False,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "owner": {
            "id": "200000000000000001",
            "username": "noa.owner",
            "global_name": "Noa",
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
        },
        "team": None,
        "flags": api.app_flags,
        "bot": BOT_USER,
        "interactions_endpoint_url": None,
    }


def _gateway(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    return {
        "url": api.gateway_url,
        "shards": 1,
        "session_start_limit": {
            "total": 1000,
            "remaining": 1000,
            "reset_after": 0,
            "max_concurrency": 1,
        },
    }


def _get_commands(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    stored = api.commands.get(p.get("guild_id"), [])
    if p.get("with_localizations") == "true":
        return stored
    # As Discord answers by default: without the localization dictionaries, of the
    # commands, their options and choices alike.
    return [_without_localizations(c) for c in stored]


def _without_localizations(item: Any) -> Any:
    if isinstance(item, list):
        return [_without_localizations(i) for i in item]
    if not isinstance(item, dict):
        return item
    return {
        k: _without_localizations(v)
        for k, v in item.items()
        if k not in ("name_localizations", "description_localizations")
    }


def _put_commands(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    stored = [
        {
            **cmd,
            "id": api.next_id(),
            "application_id": APP_ID,
            "version": api.next_id(),
            "name_localizations": cmd.get("name_localizations"),
            "description_localizations": cmd.get("description_localizations"),
            "dm_permission": True,
        }
        for cmd in body
    ]
    if p.get("guild_id"):
        for cmd in stored:
            cmd["guild_id"] = p["guild_id"]
    api.commands[p.get("guild_id")] = stored
    return stored


def _invites(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    return [dict(i) for i in api.invites.get(p["guild_id"], {}).values()]


def _vanity(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    return dict(api.vanity.get(p["guild_id"], {"code": None, "uses": 0}))


def _create_invite(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    guild_id = "100000000000000001"
    if p.get("channel_id") in api.refused_channels:  # no Create Invite there
        raise error(discord.Forbidden, 403, 50013, "Missing Permissions")
    if len(api.invites.get(guild_id, {})) >= MAX_INVITES:
        raise error(discord.HTTPException, 400, 30016, "Maximum number of invites reached (1000)")
    code = f"k{len(api.invites.get(guild_id, {})):06d}"
    api.add_invite(guild_id, code)
    return {**api.invites[guild_id][code], "inviter": BOT_USER}


def _open_dm(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    user_id = body["recipient_id"]
    return {
        "id": "41" + str(user_id)[2:],
        "type": 1,
        "last_message_id": None,
        "flags": 0,
        "recipients": [
            {
                "id": str(user_id),
                "username": "member",
                "global_name": None,
                "discriminator": "0",
                "avatar": None,
                "public_flags": 0,
            }
        ],
    }


def _send(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    channel = p["channel_id"]
    if channel.startswith("41") and "20" + channel[2:] in api.closed_dms:
        raise error(discord.Forbidden, 403, 50007, "Cannot send messages to this user")
    if channel in api.gone_channels:
        raise error(discord.NotFound, 404, 10003, "Unknown Channel")
    if channel in api.refused_channels:
        raise error(discord.Forbidden, 403, 50013, "Missing Permissions")
    return api.message(channel, body)


def _edit_message(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    return {**api.message(p["channel_id"], body), "id": p["message_id"]}


def _no_content(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    return None


def _role(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    if p["role_id"] in api.refused_roles:
        raise error(discord.Forbidden, 403, 50013, "Missing Permissions")
    return None


def _get_member(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    return {
        "user": {
            "id": p["member_id"],
            "username": "dana.levi",
            "global_name": "Dana",
            "discriminator": "0",
            "avatar": None,
        },
        "nick": "Dana L.",
        "roles": [],
        "joined_at": _now(),
        "deaf": False,
        "mute": False,
        "flags": 0,
    }


def _edit_member(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    return {
        "user": {"id": p["user_id"], "username": "m", "discriminator": "0", "avatar": None},
        "roles": [],
        "joined_at": _now(),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "communication_disabled_until": body.get("communication_disabled_until"),
    }


def _scheduled_event(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    event_id = p.get("guild_scheduled_event_id") or api.next_id()
    if event_id not in api.events and "guild_scheduled_event_id" in p:
        raise error(discord.NotFound, 404, 10070, "Unknown Guild Scheduled Event")
    event = api.events.setdefault(
        event_id,
        {
            "id": event_id,
            "guild_id": p["guild_id"],
            "channel_id": None,
            "creator_id": BOT_ID,
            "status": 1,
            "entity_id": None,
            "user_count": 0,
            "image": None,
            "recurrence_rule": None,
        },
    )
    event.update(body)
    return dict(event)


def _callback(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    flags = (body.get("data") or {}).get("flags", 0)
    return {
        "interaction": {
            "id": p["webhook_id"],
            "type": 2,
            "response_message_loading": body["type"] == 5,
            "response_message_ephemeral": bool(flags & 64),
        }
    }


def _followup(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    return api.message("400000000000000001", body, webhook_id=APP_ID)


def _edit_original(api: FakeDiscord, p: dict[str, str], body: Any) -> Any:
    return api.message("400000000000000001", body, webhook_id=APP_ID)


_ROUTES: dict[str, Any] = {
    "GET /users/@me": _users_me,
    "GET /oauth2/applications/@me": _app_info,
    "GET /gateway/bot": _gateway,
    "GET /applications/{application_id}/commands": _get_commands,
    "PUT /applications/{application_id}/commands": _put_commands,
    "GET /applications/{application_id}/guilds/{guild_id}/commands": _get_commands,
    "PUT /applications/{application_id}/guilds/{guild_id}/commands": _put_commands,
    "GET /guilds/{guild_id}/invites": _invites,
    "GET /guilds/{guild_id}/vanity-url": _vanity,
    "POST /channels/{channel_id}/invites": _create_invite,
    "POST /users/@me/channels": _open_dm,
    "POST /channels/{channel_id}/messages": _send,
    "PATCH /channels/{channel_id}/messages/{message_id}": _edit_message,
    "DELETE /channels/{channel_id}/messages/{message_id}": _no_content,
    "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}": _role,
    "DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}": _role,
    "GET /guilds/{guild_id}/members/{member_id}": _get_member,
    "PATCH /guilds/{guild_id}/members/{user_id}": _edit_member,
    "DELETE /guilds/{guild_id}/members/{user_id}": _no_content,
    "POST /guilds/{guild_id}/scheduled-events": _scheduled_event,
    "PATCH /guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}": _scheduled_event,
    "POST /interactions/{webhook_id}/{webhook_token}/callback": _callback,
    "POST /webhooks/{webhook_id}/{webhook_token}": _followup,
    "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original": _edit_original,
    "DELETE /webhooks/{webhook_id}/{webhook_token}/messages/@original": _no_content,
}
