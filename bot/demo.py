"""`kehila demo`: a month in the life of a small community, on a fresh SQLite file.

A café's community: a few dozen members join in waves (some through Dana's invite),
talk (a few talk a lot), reply to each other, react, some drift off and leave; the
café's second group (`tg`, as a Telegram group beside a Discord server) joins the
community, and Dana links her account there to her first one; the owner checks /stats
each week. A few short scenes show the bot at work (`SCENES`): a coffee tasting with
its waitlist and reminder in week 2, moderator alerts and a report in week 3. The fake
clock moves a day at a time, firing whatever jobs are due. The script is generated from a fixed seed, so every run tells the same
story. It plays in a console data folder (`var/demo`), so `kehila console --data
var/demo` opens the same community afterwards, on the demo's clock.
"""

from __future__ import annotations

import random
import re
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from adapters.console.community import ConsoleCommunity
from adapters.console.world import ConsoleData
from bot.config import Config

NAMES = [
    "Dana",
    "Noa",
    "Yossi",
    "Miriam",
    "Avi",
    "Tamar",
    "Eitan",
    "Shira",
    "Lukas",
    "Anna",
    "Jonas",
    "Lea",
    "Felix",
    "Marie",
    "Paul",
    "Sophie",
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "Ethan",
    "Mia",
    "Lucas",
    "Ella",
    "Ori",
    "Yael",
    "Gil",
    "Hannah",
    "Max",
    "Tom",
    "Nina",
    "Ben",
    "Ruth",
    "Ari",
    "Lina",
]
LINES = [
    "Good morning everyone!",
    "Does anyone know if the oat milk is back?",
    "The cinnamon rolls today were amazing",
    "Who's coming to the tasting on Thursday?",
    "Guten Morgen! Ist heute offen?",
    "בוקר טוב! מישהו יודע מתי הסדנה?",
    "I brought a friend yesterday, she loved it",
    "Any tips for brewing at home?",
    "Thanks for the recommendation!",
    "What time do you close on Fridays?",
]
EVENT_LINES = [
    "Count me in for the latte art workshop",
    "Can we do the tasting on Sunday instead?",
    "Photos from yesterday's meetup are up",
]
OWNER_LINES = [
    "Great question, we open at 7 tomorrow!",
    "Thanks for coming by!",
    "Yes, oat milk is back since this morning",
    "Danke! Bis bald im Café",
    "תודה רבה! נתראה בסדנה",
]
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
# Onboarding: the owner writes a welcome and one question on day 0; a few of the first
# joiners accept the rules and answer with a button.
ONBOARDING_SETUP = [
    "/onboarding set welcome Welcome to {community}, {member}! Grab a coffee and say hi.",
    "/onboarding question add What brings you here? | Coffee -> coffee | Meeting people | Events -> events",
]
ONBOARDING_ANSWERS = {"Dana": 1, "Noa": 2, "Yossi": 3, "Miriam": 2}
# On day 1 Dana makes an invite link and shares it; some later joiners come through it.
INVITE = "dana"
# On day 2 the owner adds the café's second group, `tg` (as a Telegram group beside a
# Discord server: its own accounts), with a space code, and links their account there;
# Dana joins the group with her account there (`Dana@tg`) and links the two with a code
# (`/link`, then `/link CODE` from the other account): one member, counted once. The
# placeholder {code} stands for the code just given.
GROUP = "tg"
LINK_SCENE = [
    *("/as owner", "/spaces link", f"/as owner@{GROUP}", "/setup {code}"),
    *("/as owner", "/dm /link", f"/as owner@{GROUP}", "/dm /link {code}"),
    *(f"/join Dana@{GROUP}", "/as Dana", "/dm /link", f"/as Dana@{GROUP}", "/dm /link {code}"),
]
# Scenes: a few days end with a short story of what the bot does, told by a comment
# line (`# ...`, which the console skips and the demo prints) and played with the same
# lines anyone would type. Each scene starts as the owner in #general and ends there.
# Week 2: the owner posts a Thursday tasting for 6; seven say Going, so the last is
# waitlisted, and moves up when someone cancels; those going are reminded.
GOING = ["Dana", "Noa", "Yossi", "Miriam", "Avi", "Tamar", "Eitan"]
TASTING = (
    "/event create Coffee tasting | Thursday 19:00 | 2h | Café Kehila, back room | 6 | "
    "Five single-origin coffees, with the roaster"
)
SCENES = {
    7: [
        "# The owner plans a coffee tasting for Thursday, 6 seats; the bot shows how it"
        " understood the event, and posts it in #events once the owner presses Post it.",
        *("/in events", TASTING, "/click 1"),
        "# Members answer with the event's buttons. Seven say Going: the seventh is put on"
        " the waitlist. Shira says Maybe.",
        *(line for name in GOING for line in (f"/as {name}", "/click 1")),
        *("/as Shira", "/click 2"),
    ],
    8: [
        "# Yossi can't come after all: Eitan, first on the waitlist, gets the seat and is"
        " told privately.",
        *("/in events", "/as Yossi", "/click 3"),
    ],
    10: [
        "# Thursday, an hour before the tasting: everyone going gets a reminder (they had"
        " one a day before, too).",
        "/advance 9h",
    ],
    # Week 3: moderator alerts. Noa becomes a moderator; alerts go to #mods.
    14: [
        "# The owner makes Noa a moderator, sends moderator alerts to #mods and has the"
        " bot watch for crypto spam.",
        "/staff set moderator Noa",
        "/config set moderation.alert_channel mods",
        "/config set moderation.watch on",
        "/watch add crypto*",
    ],
    15: [
        "# A newcomer posts crypto spam: one alert reaches #mods, with buttons. Noa deletes"
        " the message and marks the alert handled.",
        *("/join Kai", "/say Kai Free crypto giveaway, DM me for the link!"),
        *("/as Noa", "/in mods", "/click 1", "/click 4"),
    ],
    17: [
        "# Kai is rude to the staff; Tamar reports the message with /report as a reply."
        " The alert does not name her. Noa times Kai out, then looks at /incidents.",
        "/say Kai This café is a joke, the barista is useless",
        *("/as Tamar", "/reply Kai /report rude to the staff"),
        *("/as Noa", "/in mods", "/click 2", "/incidents"),
    ],
}
# Whose private messages a scene shows, besides the owner's: those acting in scenes.
IN_SCENES = {
    f"@{line.split()[1]}" for lines in SCENES.values() for line in lines if line.startswith("/as ")
}


def script(seed: int = 7) -> list[list[str]]:
    """One list of console lines per day, for 28 days; a scene's lines follow its story
    line (`# ...`, a comment to the console)."""
    rng = random.Random(seed)
    owner = "owner"
    # Skewed activity: a few regulars post a lot, most post now and then.
    weights = {name: rng.paretovariate(1.3) for name in NAMES}
    join_day = {name: (0 if i < 10 else rng.randint(1, 16)) for i, name in enumerate(NAMES)}
    leave_day = {name: rng.randint(18, 26) for name in rng.sample(NAMES[10:], 5)}
    days: list[list[str]] = []
    present: list[str] = []
    posted: set[str] = set()  # a reply needs a message to reply to
    for day in range(28):
        lines: list[str] = []
        if day == 0:
            lines += ["/setup Café Kehila", "/config set timezone Europe/Berlin"]
            lines += ONBOARDING_SETUP
        if day == 1:
            lines += [f"/as {NAMES[0]}", f"/newinvite {INVITE}", f"/as {owner}"]
        for name in NAMES:
            if join_day[name] == day:
                lines.append(
                    f"/join {name}" + (f" invite={INVITE}" if day and rng.random() < 0.4 else "")
                )
                present.append(name)
                if name in ONBOARDING_ANSWERS:
                    # Accept the rules, then pick an answer (the buttons just shown).
                    lines += [f"/as {name}", "/click 1", f"/click {ONBOARDING_ANSWERS[name]}"]
                    lines.append(f"/as {owner}")
            if leave_day.get(name) == day and name in present:
                lines.append(f"/leave {name}")
                present.remove(name)
        talkers = [n for n in present if rng.random() < min(0.9, 0.15 * weights[n])]
        for name in talkers:
            for _ in range(1 + int(weights[name] // 2)):
                others = [n for n in present if n != name and n in posted]
                roll = rng.random()
                if roll < 0.35 and others:
                    lines.append(f"/as {name}")
                    lines.append(f"/reply {rng.choice(others)} {rng.choice(LINES)}")
                    posted.add(name)
                elif roll < 0.55 and others:
                    lines.append(f"/as {name}")
                    lines.append("/react ❤️")
                elif roll < 0.7:
                    lines += ["/in events", f"/say {name} {rng.choice(EVENT_LINES)}", "/in general"]
                    posted.add(name)
                else:
                    lines.append(f"/say {name} {rng.choice(LINES)}")
                    posted.add(name)
        # The owner answers a few people, more as the month goes on; now and then a
        # member replies to the owner.
        for name in rng.sample(talkers, min(len(talkers), rng.randint(0, 1 + day // 7))):
            lines += [f"/as {owner}", f"/reply {name} {rng.choice(OWNER_LINES)}"]
            posted.add(owner)
            if rng.random() < 0.3:
                lines += [f"/as {name}", f"/reply {owner} Thank you!"]
        if day % 7 == 6:
            lines += [f"/as {owner}", "/stats"]
        if day == 27:
            lines += ["/onboarding stats", "/onboarding answers", f"/referrals {NAMES[0]}"]
        if day == 2:
            lines += [*LINK_SCENE, f"/as {owner}"]
        if day == 13 and present:
            lines += [f"/as {present[0]}", "/stats"]
        if day in SCENES:
            lines += [f"/as {owner}", "/in general", *SCENES[day], f"/as {owner}", "/in general"]
        days.append(lines)
    return days


def _code(community: ConsoleCommunity) -> str:
    found = re.search(r"/(?:link|setup) ([A-Z2-9]{4}-[A-Z2-9]{4})", community.last_text())
    return found.group(1) if found else "none"


def show(
    community: ConsoleCommunity,
    echo: Callable[[str], None],
    *,
    scene: bool = False,
    verbose: bool = False,
) -> None:
    """Print what the bot said since the last time, then forget it: what the owner and
    the channels see (and the linking codes); in a scene also what those acting in
    scenes hear privately, a post edited several times only as it ends up, and one
    text sent privately to several people at once as one line."""
    from bot.actions import Edit

    performed = community.performed
    last_edit = {
        (p.audience, p.action.message_id): i
        for i, p in enumerate(performed)
        if isinstance(p.action, Edit)
    }
    shown: list[tuple[list[str], str]] = []  # (audiences, text), in order
    for i, p in enumerate(performed):
        linking = p.text.startswith(("Your code:", "Linked:"))
        if not (
            verbose
            or p.audience == "@owner"
            or p.audience.startswith("#")
            or linking
            or (scene and p.audience in IN_SCENES)
        ):
            continue
        audience = p.audience
        if scene and isinstance(p.action, Edit):
            if last_edit[(p.audience, p.action.message_id)] != i:
                continue  # edited again later: only its last form is shown
            audience += " (updated)"
        if (
            scene
            and shown
            and shown[-1][1] == p.text
            and audience.startswith("@")
            and shown[-1][0][-1].startswith("@")
        ):
            shown[-1][0].append(audience)
            continue
        shown.append(([audience], p.text))
    for audiences, text in shown:
        echo(f"   kehila → {', '.join(audiences)}: " + text.replace("\n", "\n      "))
    community.clear()


def show_digest(community: ConsoleCommunity, echo: Callable[[str], None]) -> None:
    """The month ends on a Monday: the owner's weekly digest (09:00 local) and where
    its chart was saved."""
    from bot.actions import SendDirect

    for shown in community.performed:
        if isinstance(shown.action, SendDirect) and shown.action.attachments:
            when = community.clock.now().astimezone(ZoneInfo("Europe/Berlin"))
            echo(f"\n── {when:%a %d %b}, 09:00 Berlin: the weekly digest reaches the owner")
            echo("   kehila → @owner: " + shown.text.replace("\n", "\n      "))


async def run_demo(
    config: Config,
    data: ConsoleData,
    *,
    echo: Callable[[str], None],
    verbose: bool = False,
    then: str = "kehila console --data var/demo",
) -> None:
    """Play the month in DATA (emptied first); THEN is the command that opens it again."""
    data.reset()
    community = ConsoleCommunity(config, start=START, data=data, title="Café Kehila")
    await community.start()
    echo("Kehila demo: a month of Café Kehila's community on the console (fake clock).")
    echo(f"Kept in {data.root}/ (database, files, log).\n")
    try:
        for day, lines in enumerate(script()):
            date = community.clock.now()
            joins = sum(1 for line in lines if line.startswith("/join"))
            leaves = sum(1 for line in lines if line.startswith("/leave"))
            said = sum(
                1
                for line in lines
                if not line.startswith(("/", "#")) or line.startswith(("/say", "/reply"))
            )
            echo(f"── {date:%a %d %b}: {said} messages, {joins} joined, {leaves} left")
            scene = False  # after a story line (`# ...`): the scene's own messages too
            for line in lines:
                if line.startswith("# "):
                    show(community, echo, scene=scene, verbose=verbose)
                    echo(
                        textwrap.fill(
                            line[2:], 88, initial_indent="   ▸ ", subsequent_indent="     "
                        )
                    )
                    scene = True
                    continue
                if "{code}" in line:  # the link scene: the code just given
                    line = line.replace("{code}", _code(community))
                if verbose:
                    echo(f"   {community.session.actor.name}> {line}")
                await community.session.line(line)
            show(community, echo, scene=scene, verbose=verbose)
            # To the next morning (a scene may have let a few hours pass already).
            await community.advance(START + timedelta(days=day + 1) - community.clock.now())
        show_digest(community, echo)
    finally:
        await community.stop()  # keeps the clock and the room in DATA
    ended = community.clock.now().astimezone(ZoneInfo("Europe/Berlin"))
    echo(
        f"\nDone. Go on from where the month ended ({ended:%a %d %b %Y, %H:%M} Berlin time),"
        f" as anyone in it:\n  {then}"
    )
