"""Question detection on the message hot path: microseconds per message.

`benchmarks/ingest.py` sends messages without text, so it does not measure this. Here a
mix of everyday messages in English, Hebrew and German goes through
`bot.questions.is_question` in each language.

    python benchmarks/questions.py [--rounds 200]

Last line: one JSON object with the microseconds per message, per language.
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.questions import is_question

MESSAGES = [
    "hey everyone how are you", "lol", "I was at the cafe yesterday", "Good morning!",
    "Does anyone know the time", "see you tomorrow at 7", "ok", "Have a great weekend",
    "thanks a lot, that was great", "Is the shop open?", "https://example.org/?a=1 look",
    "מה נשמע", "בוקר טוב לכולם", "כמה טוב לראות אתכם", "מתי נפגשים",
    "Guten Morgen zusammen", "Wie schön!", "Wann fängt es an", "Danke euch allen",
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    out: dict[str, float] = {}
    for language in ("en", "he", "de"):
        texts = MESSAGES * 50

        def detect(texts: list[str] = texts, language: str = language) -> None:
            for text in texts:
                is_question(text, language)

        best = min(timeit.repeat(detect, number=rounds, repeat=5))
        out[language] = round(best / rounds / len(texts) * 1e6, 3)
        print(f"{language}: {out[language]} µs per message")
    print(json.dumps({"benchmark": "questions", "us_per_message": out}))


if __name__ == "__main__":
    main()
