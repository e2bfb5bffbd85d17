"""One word for one role, as /staff names it: German owners are "Eigentümer" (never
"Inhaber"), Hebrew moderators "מנחה/מנחים" (מנהל is a platform's administrator)."""

from __future__ import annotations

from babel.messages.pofile import read_po

from bot.i18n import LOCALE_DIR


def test_german_owners_are_eigentuemer_in_every_catalog() -> None:
    found = []
    for path in sorted((LOCALE_DIR / "de" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as f:
            catalog = read_po(f)
        for message in catalog:
            texts = message.string if isinstance(message.string, tuple) else (message.string,)
            found += [f"{path.name}: {t}" for t in texts if t and "Inhaber" in t]
    assert found == []


def test_hebrew_moderators_are_the_staff_role_not_administrators() -> None:
    found = []
    for path in sorted((LOCALE_DIR / "he" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as f:
            catalog = read_po(f)
        for message in catalog:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            said = " ".join(i.lower() for i in ids if i)
            if "moderator" not in said or "administrator" in said:
                continue
            texts = message.string if isinstance(message.string, tuple) else (message.string,)
            found += [f"{path.name}: {t}" for t in texts if t and "מנהל" in t]
    assert found == []
