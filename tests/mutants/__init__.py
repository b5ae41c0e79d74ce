"""Edits of the solution modules: realistic mistakes, and correct solutions written differently.

Each part keeps its own in ``tests/mutants/part<N>_<name>.py`` (lists ``MUTANTS``
and ``VARIANTS``); this package gathers them.

An edit names the module it changes and the exact text it replaces (which
must occur in the solution, so an edit cannot silently stop applying).
A *mutant* is a mistake: it also names the autograder test meant to catch
it and words that the failure message must contain, so the student learns
what the mistake was. A *variant* is correct and must keep full marks.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"


@dataclass(frozen=True)
class Variant:
    name: str
    module: str
    edits: tuple[tuple[str, str], ...]  # (old, new): every occurrence of old is replaced

    def source(self) -> str:
        text = (SOLUTIONS / f"{self.module}.py").read_text()
        for old, new in self.edits:
            if old not in text:
                raise ValueError(f"mutant {self.name!r}: {old!r} is not in solutions/{self.module}.py")
            text = text.replace(old, new)
        return text

    def write(self, folder: Path) -> Path:
        """Write the mutated module into ``folder`` and return the folder."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{self.module}.py").write_text(self.source())
        return folder


@dataclass(frozen=True)
class Mutant(Variant):
    caught_by: str  # the autograder test (name with any [parameters]) that must fail
    message_names: str  # text the failure message must contain


def _part_modules():
    """The modules ``tests/mutants/part<N>_<name>.py``, in part order."""
    found = [info.name for info in pkgutil.iter_modules(__path__) if re.fullmatch(r"part\d+_\w+", info.name)]
    for name in sorted(found, key=lambda name: int(re.match(r"part(\d+)", name).group(1))):
        yield importlib.import_module(f"{__name__}.{name}")


# Every part's mistakes and correct variants; each part keeps its own in tests/mutants/part<N>_<name>.py.
MUTANTS: list[Mutant] = [mutant for module in _part_modules() for mutant in module.MUTANTS]
VARIANTS: list[Variant] = [variant for module in _part_modules() for variant in module.VARIANTS]
