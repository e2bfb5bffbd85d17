"""One word for one role: German owners are "Eigentümer" everywhere (/staff, /help),
never "Inhaber" in one feature's texts and "Eigentümer" in another's."""

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
