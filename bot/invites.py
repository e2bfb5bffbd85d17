"""Invite codes: one normal form on both sides of every adapter.

A referral is credited by comparing the code of the invite a member came through
(`MemberJoined.invite_code`, `JoinRequested.invite_code`, `candidate_codes`) with
the codes of the invites made (`CreateInvite`'s `ActionResult.invite_code`,
`InviteCreated.code`). Every adapter passes both sides through `invite_code`, so a
code never differs from itself because one side is a URL.

The normal form is the invite's own token, spelled as the platform spells it (case
matters):

- Discord: the invite code: `https://discord.gg/AbCd123`,
  `https://discord.com/invite/AbCd123` -> `AbCd123` (a vanity URL: its code).
- Telegram: the link's hash: `https://t.me/+AbCdEf` and the older
  `https://t.me/joinchat/AbCdEf` -> `AbCdEf`.
- console: `console://join/inv3` -> `inv3`.
"""

from __future__ import annotations


def invite_code(link_or_code: str) -> str:
    """The normal form of an invite, from its link or its code."""
    value = link_or_code.strip().split("?", 1)[0].split("#", 1)[0].rstrip("/")
    return value.rsplit("/", 1)[-1].removeprefix("+")
