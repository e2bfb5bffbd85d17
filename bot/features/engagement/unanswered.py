"""Questions nobody answered: found on the hot path, kept in memory, written in batches.

What asks something is decided in the community's language by `bot.questions`
(`is_question`, re-exported here). Nothing here touches the database: questions, the
replies that answer them and "this platform gives no text" notes are buffered, and
the engagement flush writes them with its own batch. Only a reference and at most the
first 100 characters of a question are kept (deleted after 30 days).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.events import MessagePosted
from bot.i18n import quoted
from bot.markup import Link, Node, message_link
from bot.questions import is_question
from storage.engagement import EXCERPT_CHARS
from storage.models import storable_text


def excerpt(text: str) -> str:
    """The start of a question as it is kept: one line, at most EXCERPT_CHARS, without
    what the database cannot store (a NUL once blocked every flush on PostgreSQL)."""
    flat = " ".join(text.split())[:EXCERPT_CHARS]
    kept = storable_text(flat)  # on 100 characters at most: questions are 1 in 10 messages
    return flat if kept is flat else " ".join(kept.split())


@dataclass(slots=True)
class QuestionBuffer:
    """Not yet written: questions by message key, answers, communities without text."""

    questions: dict[tuple[str, str, str], dict[str, object]] = field(default_factory=dict)
    answers: dict[tuple[str, str, str], datetime] = field(default_factory=dict)
    no_text: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.questions or self.answers or self.no_text)


class QuestionTracker:
    def __init__(self) -> None:
        self.buffer = QuestionBuffer()
        # Communities already noted (this process) as getting messages without text.
        self._noted_no_text: set[int] = set()

    def asked(
        self,
        community_id: int,
        member_id: int,
        platform: str,
        space_id: str,
        channel_id: str,
        message_id: str,
        at: datetime,
        text: str,
    ) -> None:
        self.buffer.questions[(platform, space_id, message_id)] = {
            "community_id": community_id,
            "member_id": member_id,
            "platform": platform,
            "space_id": space_id,
            "channel_id": channel_id,
            "message_id": message_id,
            "asked_at": at,
            "excerpt": excerpt(text),
            "answered_at": None,
        }

    def replied(self, platform: str, space_id: str, message_id: str, at: datetime) -> None:
        key = (platform, space_id, message_id)
        pending = self.buffer.questions.get(key)
        if pending is not None:
            if pending["answered_at"] is None:
                pending["answered_at"] = at
            return
        known = self.buffer.answers.get(key)
        if known is None or at < known:
            self.buffer.answers[key] = at

    def without_text(self, community_id: int) -> None:
        if community_id not in self._noted_no_text:
            self._noted_no_text.add(community_id)
            self.buffer.no_text.add(community_id)

    def take(self) -> QuestionBuffer:
        buffer, self.buffer = self.buffer, QuestionBuffer()
        return buffer

    def merge_back(self, old: QuestionBuffer, known_members: object) -> None:
        for key, row in old.questions.items():
            if row["member_id"] in known_members:  # type: ignore[operator]
                self.buffer.questions.setdefault(key, row)
        for akey, at in old.answers.items():
            self.buffer.answers.setdefault(akey, at)
        self.buffer.no_text |= old.no_text

    def merge(self, from_id: int, into_id: int) -> None:
        for row in self.buffer.questions.values():
            if row["member_id"] == from_id:
                row["member_id"] = into_id

    def forget(self, member_id: int) -> None:
        for key in [k for k, v in self.buffer.questions.items() if v["member_id"] == member_id]:
            del self.buffer.questions[key]


def question_node(
    platform: str,
    space_id: str,
    channel_id: str,
    message_id: str,
    text: str,
    *,
    channel_name: str,
    locale: str,
) -> tuple[Node, ...]:
    """A question as a link to it, or, where the platform has no links, with the
    name of its channel (never the id)."""
    label = quoted(locale, f"{text[:60]}{'…' if len(text) > 60 else ''}")
    url = message_link(platform, space_id, channel_id, message_id)
    if url is None:
        return (label, f" ({channel_name})")
    return (Link(url, label),)


def track(
    tracker: QuestionTracker,
    community_id: int,
    member_id: int,
    event: MessagePosted,
    language: str,
) -> None:
    """Note a question, or a reply that may answer one (called on every message)."""
    if event.text is None:
        tracker.without_text(community_id)
    elif is_question(event.text, language):
        tracker.asked(
            community_id,
            member_id,
            event.platform,
            event.space_id,
            event.channel_id,
            event.message_id,
            event.at,
            event.text,
        )
    if event.reply_to_message_id is not None and event.reply_to_user_id != (
        event.actor.user_id if event.actor else None
    ):
        # Only a reply to a question can answer one. Most replies are not (a third of
        # all messages are replies), and each noted answer is a row in the next flush;
        # when the platform did not send the replied-to text along, it may be.
        parent = event.reply_to_text
        if parent is None or is_question(parent, language):
            tracker.replied(event.platform, event.space_id, event.reply_to_message_id, event.at)
