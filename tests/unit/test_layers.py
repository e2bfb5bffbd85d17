"""The direction of imports (DESIGN.md, "Layers"): arrows point down only.

    adapters, jobs  ->  bot  ->  storage

Every import statement counts, including those inside functions and under
TYPE_CHECKING. The composition root (bot/app.py, bot/cli.py, bot/demo.py) is the
one place in bot/ allowed to know adapters and jobs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("bot", "storage", "jobs", "adapters")
COMPOSITION_ROOT = {"bot/app.py", "bot/cli.py", "bot/demo.py"}

# Our packages each layer must not import.
FORBIDDEN_OURS: dict[str, set[str]] = {
    "storage": {"bot", "adapters", "jobs"},
    "bot": {"adapters", "jobs"},
    "jobs": {"adapters", "storage"},
    "adapters": {"storage", "jobs"},
}
# Third-party packages only one place may import: package -> allowed path prefix.
OWNED_THIRD_PARTY = {
    "discord": "adapters/discord/",
    "telegram": "adapters/telegram/",
    "apscheduler": "jobs/",
    "sqlalchemy": "storage/",
    "alembic": "storage/",
    # The health and metrics server and what it serves: one module each.
    "aiohttp": "bot/web.py",
    "prometheus_client": "bot/metrics.py",
}


@dataclass(frozen=True)
class Import:
    file: str  # relative to the repository, with /
    line: int
    module: str  # absolute dotted name

    @property
    def top(self) -> str:
        return self.module.split(".")[0]

    def __str__(self) -> str:
        return f"{self.file}:{self.line} imports {self.module}"


def _package_of(rel: Path) -> list[str]:
    """The dotted package a file belongs to, as parts (bot/features/x.py: bot.features)."""
    return list(rel.parent.parts)


def imports_in(path: Path, root: Path = ROOT) -> Iterator[Import]:
    rel = path.relative_to(root)
    name = rel.as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=name)
    for node in ast.walk(tree):  # walks function bodies too
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                package = _package_of(rel)
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if node.module is None:  # `from . import x`: each name may be a module
                for alias in node.names:
                    yield Import(name, node.lineno, f"{module}.{alias.name}")
            else:
                yield Import(name, node.lineno, module)


def all_imports() -> list[Import]:
    found: list[Import] = []
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            if ".venv" not in path.parts:
                found.extend(imports_in(path))
    return found


def violations(imports: list[Import]) -> list[str]:
    bad = []
    for imp in imports:
        layer = imp.file.split("/")[0]
        forbidden = FORBIDDEN_OURS[layer]
        if layer == "bot" and imp.file in COMPOSITION_ROOT:
            forbidden = set()
        if imp.top in forbidden:
            bad.append(f"{imp}: {layer}/ must not import {imp.top}/ (an arrow pointing up)")
        owner = OWNED_THIRD_PARTY.get(imp.top)
        if owner is not None and not imp.file.startswith(owner):
            bad.append(f"{imp}: only {owner} may import {imp.top}")
    return bad


def test_no_import_points_up_a_layer() -> None:
    imports = all_imports()
    # The walk found the code (a wrong ROOT would pass vacuously).
    assert any(i.file == "bot/app.py" and i.top == "storage" for i in imports)
    assert any(i.file.startswith("storage/") and i.top == "sqlalchemy" for i in imports)
    bad = violations(imports)
    assert not bad, "imports that point the wrong way:\n" + "\n".join(bad)


def test_the_check_catches_bad_imports() -> None:
    """The rules themselves, on imports the real code must never have."""
    samples = [
        Import("storage/repositories.py", 3, "bot.directory"),
        Import("bot/features/privacy.py", 40, "adapters.console.adapter"),
        Import("bot/context.py", 7, "jobs.scheduler"),
        Import("jobs/scheduler.py", 9, "storage.models"),
        Import("adapters/console/adapter.py", 5, "storage.unit_of_work"),
        Import("adapters/telegram/adapter.py", 2, "discord"),
        Import("bot/dispatcher.py", 1, "sqlalchemy.orm"),
        Import("bot/features/engagement.py", 1, "apscheduler.triggers.cron"),
        Import("adapters/discord/render.py", 1, "telegram.constants"),
    ]
    bad = violations(samples)
    assert len(bad) == len(samples)
    assert bad[0].startswith("storage/repositories.py:3 imports bot.directory")
    allowed = [
        Import("bot/app.py", 3, "jobs.scheduler"),
        Import("bot/app.py", 4, "adapters.console"),
        Import("adapters/discord/client.py", 1, "discord.ext"),
        Import("jobs/scheduler.py", 1, "apscheduler.schedulers.asyncio"),
        Import("jobs/scheduler.py", 2, "bot.events"),
        Import("bot/context.py", 1, "storage.unit_of_work"),
    ]
    assert violations(allowed) == []


def test_imports_inside_functions_and_relative_imports_are_seen(tmp_path: Path) -> None:
    path = tmp_path / "bot" / "features" / "probe.py"
    path.parent.mkdir(parents=True)
    path.write_text(
        "def later():\n"
        "    import adapters.discord\n"
        "    from ..clock import FakeClock\n"
        "    from . import privacy\n",
        encoding="utf-8",
    )
    found = list(imports_in(path, root=tmp_path))
    assert [imp.module for imp in found] == [
        "adapters.discord",
        "bot.clock",
        "bot.features.privacy",
    ]
    assert violations(found) == [
        "bot/features/probe.py:2 imports adapters.discord: bot/ must not import adapters/ "
        "(an arrow pointing up)"
    ]
