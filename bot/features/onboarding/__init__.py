"""Onboarding: every new member welcomed, verified, heard and brought into the conversation.

A real join (not a bot, not a Discord member still in membership screening, not a
rejoin within `onboarding.rejoin_window`) gets a public welcome in the community's
channel and a private message with the rules and an "I accept" button. With the gate
on, the member lacks the member role (platforms with roles, when
`onboarding.member_role` is set) or is restricted from posting (otherwise) until they
accept; after `onboarding.gate_timeout` the owner's choice happens (remove or keep
gated). Accepting leads to up to five questions (buttons or free text, skippable),
whose choices can give a role (where the platform has roles) and always a tag.
A member who has not posted after `onboarding.nudge_after` gets one private nudge.

State lives in the database (`storage/onboarding.py`), so a restart mid-questions
resumes and buttons shown before it still work; time-outs, nudges and the end of a
surge are jobs with run claims. The hot path (every message) costs a set lookup:
who still has to post a first message, and who owes a free-text answer, are kept in
memory, loaded at start and kept current after each commit. The welcome is decided in
memory too (who is here, who left recently, the surge), so it goes out before the
join's own transaction; see `joining.py` and docs/ONBOARDING.md for the limits with
several processes.

The modules, each importing only those listed before it:

- `runtime`: the per-process state (`Runtime`, `Decision`, `runtime()`), its load at
  start, and the job and button names the modules share
- `settings`: the settings and the default texts
- `privacy`: `forget` and `export` (/forgetme, /mydata)
- `texts`: the owner's texts or the defaults, filled in; the private welcome
- `gate`: how the gate works on a platform; the gate time-out job
- `questions`: the button (accept, choose, skip), the answers, the next question, /welcome's step
- `nudge`: the first-message watch (the hot path) and the nudge job
- `surge`: welcomes wait during a join surge (moderation's `SurgeStarted`/`SurgeEnded`)
- `joining`: the welcome decision, its record, rejoins and leaves
- `funnel`: /onboarding stats and the digest's section
- `question_commands`: /onboarding question add|list|remove and /onboarding answers
- `commands`: the /onboarding command tree, its other subcommands, and /welcome
- `feature`: `setup()`, the entry point: builds the `Feature` from all of the above
"""

from __future__ import annotations

from bot.features.onboarding.feature import setup
from bot.features.onboarding.questions import resume
from bot.features.onboarding.runtime import Runtime, runtime

__all__ = ["Runtime", "resume", "runtime", "setup"]
