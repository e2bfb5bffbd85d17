"""An in-memory Bot API: a `BaseRequest` that records every call and answers the way
api.telegram.org does (same JSON shapes, same error bodies). No test reaches the network.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

TOKEN = "7000000001:AAE-kehila-test-token-0123456789abcdef"
BOT_ID = 7000000001
BOT_USERNAME = "kehila_bot"
BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Kehila",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}
NEVER_STARTED = "Forbidden: bot can't initiate conversation with a user"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: tuple[str, ...] = ()
    ok: bool = True  # False: answered with an error
    # The uploaded files as PTB encoded them: part name -> (file name, content, type).
    uploads: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]


class FakeBotAPI(BaseRequest):
    def __init__(self) -> None:
        self.calls: list[Call] = []
        # chat id -> administrators' user dicts (getChatAdministrators), creator first
        self.admins: dict[int, list[dict[str, Any]]] = {}
        # chat id -> error description: sending there answers 403 with it
        self.forbidden_chats: dict[int, str] = {}
        # chat id -> the group's title, as getChat answers it
        self.titles: dict[int, str] = {}
        # updates handed out by the next long-poll getUpdates
        self.pending_updates: list[dict[str, Any]] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._message_id = 100
        self._poll_wakeup: asyncio.Event | None = None
        self.polled: asyncio.Event | None = None

    # --- test helpers --------------------------------------------------------------

    def fail_next(self, method: str, status: int, description: str, **parameters: Any) -> None:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        self._failures.setdefault(method, []).append(_Failure(status, body))

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def push_update(self, update: dict[str, Any]) -> None:
        self.pending_updates.append(update)
        if self._poll_wakeup is not None:
            self._poll_wakeup.set()

    # --- BaseRequest ---------------------------------------------------------------

    async def initialize(self) -> None:
        self._poll_wakeup = asyncio.Event()
        self.polled = asyncio.Event()

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = {}
        files: tuple[str, ...] = ()
        uploads: dict[str, Any] = {}
        if request_data is not None:
            params = {k: _plain(v) for k, v in request_data.parameters.items()}
            if request_data.contains_files:
                uploads = dict(request_data.multipart_data)
                files = tuple(uploads)
        call = Call(api_method, params, files, uploads=uploads)
        self.calls.append(call)
        queued = self._failures.get(api_method)
        if queued:
            failure = queued.pop(0)
            call.ok = False
            return failure.status, json.dumps(failure.body).encode()
        if api_method == "getUpdates":
            return 200, await self._get_updates(params)
        answer = getattr(self, f"_api_{api_method}", None)
        if answer is None:
            result: Any = True
        else:
            result = answer(params)
        if isinstance(result, _Failure):
            call.ok = False
            return result.status, json.dumps(result.body).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # --- answers -------------------------------------------------------------------

    async def _get_updates(self, params: dict[str, Any]) -> bytes:
        assert self._poll_wakeup is not None and self.polled is not None
        self.polled.set()
        if not self.pending_updates and float(params.get("timeout", 0)) > 0:
            # A long poll: hold the request until an update comes (or polling stops).
            self._poll_wakeup.clear()
            await self._poll_wakeup.wait()
        updates, self.pending_updates = self.pending_updates, []
        return json.dumps({"ok": True, "result": updates}).encode()

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return BOT_USER

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id > 0:
            return {"id": chat_id, "first_name": "Member", "type": "private"}
        return {"id": chat_id, "title": "Kehila Test Group", "type": "supergroup"}

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any] | _Failure:
        chat_id = int(params["chat_id"])
        if chat_id in self.forbidden_chats:
            description = self.forbidden_chats[chat_id]
            return _Failure(403, {"ok": False, "error_code": 403, "description": description})
        self._message_id += 1
        message: dict[str, Any] = {
            "message_id": self._message_id,
            "from": BOT_USER,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **extra,
        }
        if "message_thread_id" in params:
            message["message_thread_id"] = params["message_thread_id"]
            message["is_topic_message"] = True
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any] | _Failure:
        return self._message(params, text=_strip_tags(params["text"]))

    def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any] | _Failure:
        return self._message(
            params,
            document={
                "file_id": "BQACAgQAAxkBAAIBZ2Zk",
                "file_unique_id": "AgADZ2Zk",
                "file_name": "file",
                "file_size": 1,
            },
        )

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any] | _Failure:
        extra: dict[str, Any] = {
            "photo": [
                {"file_id": "AgACAgQAAxkBAAIBaGZk", "file_unique_id": "AQADaGZk", "width": 1024,
                 "height": 1280, "file_size": 1},
            ]
        }  # fmt: skip
        if "caption" in params:
            extra["caption"] = _strip_tags(params["caption"])
        return self._message(params, **extra)

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any] | _Failure:
        message = self._message(params, text=_strip_tags(params["text"]))
        if isinstance(message, dict):
            message["message_id"] = params["message_id"]
            message["edit_date"] = int(time.time())
        return message

    def _api_getChatAdministrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        users = self.admins.get(int(params["chat_id"]), [])
        return [
            {
                "user": user,
                "status": "creator" if i == 0 else "administrator",
                "is_anonymous": False,
                **(
                    {}
                    if i == 0
                    else {
                        "can_be_edited": False,
                        "can_manage_chat": True,
                        "can_delete_messages": True,
                        "can_manage_video_chats": True,
                        "can_restrict_members": True,
                        "can_promote_members": False,
                        "can_change_info": True,
                        "can_invite_users": True,
                        "can_post_stories": False,
                        "can_edit_stories": False,
                        "can_delete_stories": False,
                    }
                ),
            }
            for i, user in enumerate(users)
        ]

    def _api_getChat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        full: dict[str, Any] = {
            **self._chat(chat_id),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if chat_id in self.titles:
            full["title"] = self.titles[chat_id]
        return full

    def _api_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        uid = int(params["user_id"])
        return {
            "user": {"id": uid, "is_bot": False, "first_name": f"User {uid}"},
            "status": "member",
        }

    def _api_createChatInviteLink(self, params: dict[str, Any]) -> dict[str, Any]:
        link: dict[str, Any] = {
            "invite_link": f"https://t.me/+Fk{len(self.of('createChatInviteLink')):04d}aZbQ9xYz",
            "creator": BOT_USER,
            "creates_join_request": bool(params.get("creates_join_request", False)),
            "is_primary": False,
            "is_revoked": False,
        }
        if "name" in params:
            link["name"] = params["name"]
        return link


def _plain(value: Any) -> Any:
    """Parameters as JSON would carry them (files become their attach:// names)."""
    return json.loads(json.dumps(value, default=str))


def _strip_tags(html_text: str) -> str:
    import re
    from html import unescape

    return unescape(re.sub(r"<[^>]+>", "", html_text))
