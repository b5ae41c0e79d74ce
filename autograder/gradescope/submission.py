"""Find the part modules among the files a student uploaded.

Gradescope puts an upload in ``/autograder/submission`` as the student made
it: single ``.py`` files, a zip, or a folder (a dragged ``assignment/``
folder), at any depth. The modules the grader needs are named by the test
files (``autograder/test_part1_network.py`` grades ``network.py``), so a new
part needs no change here. Every other file is ignored, and listed, so that a
student who uploaded ``Network.py`` or ``network (1).py`` can see why Part 1
scored zero.

When a module appears more than once, the shallowest copy is graded (a loose
file before a zip member, then by path), and the others are listed.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading.points import PART_FILE

MAX_MODULE_BYTES = 2_000_000  # a part module is a few kB; anything this large is not one (or is a zip bomb)
TOO_LARGE = " (too large to be a part module: not graded)"
SKIPPED_FOLDERS = {"__MACOSX", "__pycache__"}  # and every name starting with "." (.DS_Store, ._network.py, .git)
COPY_SUFFIX = re.compile(r"(.+?)(?: ?\(\d+\)|-\d+| copy)?\.py", re.IGNORECASE)  # "network (1).py", "network copy.py"


def part_modules(autograder_dir: Path) -> dict[str, str]:
    """``{"network.py": "1 network", ...}``: the module each ``test_part<N>_<name>.py`` grades, in part order."""
    modules = {}
    for path in autograder_dir.glob("test_part*_*.py"):
        match = PART_FILE.fullmatch(path.name)
        if match:
            modules[f"{match.group(2)}.py"] = f"{match.group(1)} {match.group(2)}"
    return dict(sorted(modules.items(), key=lambda item: int(item[1].split()[0])))


@dataclass(frozen=True)
class Candidate:
    """One uploaded copy of a part module."""

    where: str  # as the student would recognise it: "assignment/network.py" or "hw.zip: assignment/network.py"
    depth: int  # folders (and zips) above it
    in_zip: bool
    content: bytes

    def preference(self) -> tuple:
        return (self.depth, self.in_zip, self.where)


@dataclass
class Collected:
    """What was found in one submission, and which file was graded for each module."""

    modules: dict[str, str]  # {"network.py": "1 network"}: what the grader needs
    graded: dict[str, str] = field(default_factory=dict)  # module -> where the graded copy came from
    unused_copies: dict[str, list[str]] = field(default_factory=dict)  # module -> other copies, not graded
    ignored: list[str] = field(default_factory=list)  # everything else uploaded

    @property
    def missing(self) -> list[str]:
        return [module for module in self.modules if module not in self.graded]

    def uploaded(self) -> list[str]:
        """Every file the student uploaded, as they would name it."""
        copies = [where for wheres in self.unused_copies.values() for where in wheres]
        return sorted([*self.graded.values(), *copies, *self.ignored])

    def report(self) -> str:
        """What was graded and what is missing, for the top of the student's results."""
        lines = []
        if self.graded:
            lines.append("Files graded: " + ", ".join(f"{m} (from {w})" for m, w in self.graded.items()))
        for module in self.missing:
            lines.append(
                f"Missing: {module} (Part {self.modules[module]}) is not among the files you uploaded, "
                "so the tests of that part score 0."
            )
            lines += [f"  {hint}" for hint in self._hints(module)]
        if self.missing:
            uploaded = self.uploaded()
            lines.append("Files you uploaded: " + (", ".join(uploaded) if uploaded else "none"))
            lines.append("Upload the files of assignment/ themselves, with these exact names: " + ", ".join(self.modules))
        for module, wheres in self.unused_copies.items():
            lines.append(f"{module} was uploaded more than once; graded {self.graded[module]}, not " + ", ".join(wheres))
        return "\n".join(lines)

    def _hints(self, module: str) -> list[str]:
        hints = []
        for where in self.ignored:
            name = where.rsplit("/", 1)[-1].rsplit(": ", 1)[-1]
            match = COPY_SUFFIX.fullmatch(name)
            if match and f"{match.group(1).lower()}.py" == module:
                hints.append(f"{where} looks like {module} under another name: rename it to {module}.")
        return hints


def _walk(folder: Path):
    """Files under ``folder``, sorted, without macOS and editor clutter; symbolic links are not followed."""
    for path in sorted(folder.iterdir()):
        if path.name in SKIPPED_FOLDERS or path.name.startswith(".") or path.is_symlink():
            continue
        if path.is_dir():
            yield from _walk(path)
        elif path.is_file():
            yield path


def _zip_members(path: Path, label: str, depth: int, modules: dict[str, str], collected: Collected, found: dict):
    try:
        archive = zipfile.ZipFile(path)
        members = sorted(archive.infolist(), key=lambda info: info.filename)
    except (zipfile.BadZipFile, OSError):
        collected.ignored.append(f"{label} (not a readable zip)")
        return
    with archive:
        for info in members:
            parts = [p for p in info.filename.split("/") if p]
            if info.is_dir() or not parts or any(p in SKIPPED_FOLDERS or p.startswith(".") for p in parts):
                continue
            where = f"{label}: {'/'.join(parts)}"
            if parts[-1] in modules and info.file_size <= MAX_MODULE_BYTES:
                found.setdefault(parts[-1], []).append(Candidate(where, depth + len(parts), True, archive.read(info)))
            else:
                collected.ignored.append(where + (TOO_LARGE if parts[-1] in modules else ""))


def collect(submission: Path, target: Path, modules: dict[str, str]) -> Collected:
    """Copy the part modules found in ``submission`` into the folder ``target``; say what was found."""
    collected = Collected(modules)
    found: dict[str, list[Candidate]] = {}
    for path in _walk(submission):
        relative = path.relative_to(submission)
        depth = len(relative.parts)
        if path.name in modules and path.stat().st_size <= MAX_MODULE_BYTES:
            found.setdefault(path.name, []).append(Candidate(relative.as_posix(), depth, False, path.read_bytes()))
        elif path.suffix.lower() == ".zip":
            _zip_members(path, relative.as_posix(), depth, modules, collected, found)
        else:
            collected.ignored.append(relative.as_posix() + (TOO_LARGE if path.name in modules else ""))
    target.mkdir(parents=True, exist_ok=True)
    # Readable by all: where the grader runs as root, student code runs as an unprivileged user.
    target.chmod(0o755)
    for module in modules:
        if module not in found:
            continue
        best, *others = sorted(found[module], key=Candidate.preference)
        (target / module).write_bytes(best.content)
        (target / module).chmod(0o644)
        collected.graded[module] = best.where
        if others:
            collected.unused_copies[module] = [other.where for other in others]
    return collected
