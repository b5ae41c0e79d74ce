"""Grade a folder of submissions, in parallel, into one CSV and a ``results.json`` each.

    python -m autograder.gradescope.batch SUBMISSIONS --output OUT [--jobs 2] [--timeout 900]

``SUBMISSIONS`` is either

- a folder with one subfolder per submission (its name is the submission's
  id), each holding that student's files as they uploaded them; or
- Gradescope's "Export submissions" download (the zip, or the folder it
  unpacks to): one ``submission_<id>`` folder per submission and a
  ``submission_metadata.yml`` that names the submitters, for example::

      submission_123456:
        :submitters:
        - :name: Ada Lovelace
          :sid: '0001'
          :email: ada@example.edu
        :created_at: 2024-03-01 12:00:00.000000000 Z
        :score: 0.0
        ...

  (Ruby's YAML: keys are symbols, earlier results and history are nested
  under each submission; it is read with PyYAML, part of the dev extra).

Each submission is graded exactly as on Gradescope, by
:mod:`autograder.gradescope.grade` in a process of its own, with a time limit
for the whole run (``--timeout``) and a harder one on the process, so a
submission that hangs or crashes costs only its own row. ``OUT`` receives
``grades.csv`` (one row per submission: id, names, emails, student ids, the
points of each part, the total, the status of the run, missing files, and the
static audit's findings and integrity flags where the grader recorded them) and
``results/<id>/results.json`` and ``results/<id>/grading.log``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from autograder.gradescope.grade import SOURCE, fallback
from autograder.gradescope.submission import part_modules
from autograder.grading.parallel import usable_cpus
from autograder.grading.results import write_results

METADATA = "submission_metadata.yml"
GRACE = 60  # seconds past --timeout before the grading process itself is stopped
KILL_WAIT = 15  # seconds between asking the grading process to stop and killing it


@dataclass
class Submission:
    id: str
    folder: Path
    names: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    sids: list[str] = field(default_factory=list)


def _without_colon(mapping) -> dict:
    """Ruby symbol keys (``:name``) as plain ones (``name``)."""
    return {str(key).lstrip(":"): value for key, value in mapping.items()} if isinstance(mapping, dict) else {}


def read_metadata(path: Path) -> dict[str, dict[str, list[str]]]:
    """``{folder: {"names": [...], "emails": [...], "sids": [...]}}`` from Gradescope's submission_metadata.yml."""
    try:
        import yaml
    except ImportError as error:  # PyYAML is in the dev extra
        raise SystemExit(f'reading {path.name} needs PyYAML: pip install -e ".[dev]"') from error
    people = {}
    for folder, entry in (yaml.safe_load(path.read_text()) or {}).items():
        submitters = [_without_colon(s) for s in _without_colon(entry).get("submitters") or []]
        people[str(folder)] = {
            key: [str(s[attribute]) for s in submitters if s.get(attribute) is not None]
            for key, attribute in (("names", "name"), ("emails", "email"), ("sids", "sid"))
        }
    return people


def find_submissions(folder: Path) -> list[Submission]:
    """The submissions in ``folder`` (plain layout, or a Gradescope export with its metadata)."""
    exports = sorted(folder.glob(METADATA)) or sorted(folder.glob(f"*/{METADATA}"))
    root = exports[0].parent if exports else folder
    people = read_metadata(exports[0]) if exports else {}
    submissions = []
    for path in sorted(root.iterdir()):
        if path.is_dir() and not path.name.startswith((".", "__MACOSX")):
            submissions.append(Submission(path.name, path, **people.get(path.name, {})))
    return submissions


def grade_one(submission: Submission, output: Path, timeout: float, grader_args: list[str]) -> dict:
    """Grade one submission in a process of its own; its results document, whatever happened."""
    folder = output / "results" / submission.id
    folder.mkdir(parents=True, exist_ok=True)
    results = folder / "results.json"
    command = [sys.executable, "-m", "autograder.gradescope.grade", str(submission.folder.resolve()), str(results),
               "--timeout", str(timeout), *grader_args]
    environment = dict(os.environ, PYTHONPATH=str(SOURCE))
    started = time.monotonic()
    with open(folder / "grading.log", "w") as log:
        process = subprocess.Popen(command, cwd=SOURCE, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            process.wait(timeout=timeout + GRACE)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)  # grade.py stops its grader and still writes the results
            try:
                process.wait(timeout=KILL_WAIT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    try:
        document = json.loads(results.read_text())
    except (OSError, ValueError):
        document = fallback(f"The grading process ended (status {process.returncode}) without results.",
                            time.monotonic() - started)
        write_results(results, document)
    return document


def row(submission: Submission, document: dict, parts: list[str]) -> dict:
    tests = document.get("tests", [])
    scores = {f"Part {part}": sum(t.get("score", 0) for t in tests if t.get("tags") == [f"part {part}"]) for part in parts}
    extra = document.get("extra_data") or {}
    stopped = extra.get("stopped", "no results from the grader")  # "" when the run finished
    return {
        "id": submission.id,
        "name": "; ".join(submission.names),
        "email": "; ".join(submission.emails),
        "sid": "; ".join(submission.sids),
        **{part: f"{score:g}" for part, score in scores.items()},
        "total": f"{sum(t.get('score', 0) for t in tests):g}",
        "max_score": f"{sum(t.get('max_score', 0) for t in tests):g}",
        "status": stopped or "graded",
        "missing": " ".join(extra.get("submission_files", {}).get("missing", [])),
        "audit": " | ".join([*extra.get("audit", []), *extra.get("flags", [])]),  # the static audit, integrity flags
    }


def grade_all(submissions_path: Path, output: Path, jobs: int, timeout: float, grader_args: list[str]) -> Path:
    """Grade every submission under ``submissions_path`` (a folder or an export zip); the CSV written."""
    with tempfile.TemporaryDirectory(prefix="dlcv-batch-") as scratch:
        if submissions_path.suffix.lower() == ".zip":
            with zipfile.ZipFile(submissions_path) as archive:
                archive.extractall(scratch)
            submissions_path = Path(scratch)
        submissions = find_submissions(submissions_path)
        parts = list(part_modules(SOURCE / "autograder").values())
        rows = []
        with ThreadPoolExecutor(max_workers=jobs) as pool:  # each thread waits on one grading process
            futures = {pool.submit(grade_one, s, output, timeout, grader_args): s for s in submissions}
            for future in tqdm(as_completed(futures), total=len(futures), desc="grading", unit="submission"):
                rows.append(row(futures[future], future.result(), parts))
    csv_path = output / "grades.csv"
    fields = ["id", "name", "email", "sid", *(f"Part {p}" for p in parts), "total", "max_score", "status", "missing", "audit"]
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: r["id"]))
    return csv_path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", type=Path, help="folder of submissions, or Gradescope's export (zip or folder)")
    parser.add_argument("--output", type=Path, required=True, help="folder for grades.csv and each results.json")
    parser.add_argument(
        "--jobs", type=int, default=1,
        help="submissions graded at once (default 1); the CPUs are shared out among them as grading workers",
    )
    parser.add_argument("--timeout", type=float, default=900, help="seconds for one submission's run (default 900)")
    parser.add_argument("-k", dest="keyword", default=None, help="grade only the tests matching this pytest -k expression")
    parser.add_argument("--time-limit-scale", default=None, help="scale every test's time limit (a slower machine)")
    options = parser.parse_args(argv)
    if not options.submissions.exists():
        parser.error(f"{options.submissions}: not found")
    # With several jobs, each submission's grader gets its share of the CPUs as workers (--workers), so that jobs
    # and workers together never ask for more CPUs than there are; one job alone gets the grader's own choice.
    grader_args = [] if options.jobs == 1 else ["--workers", str(max(1, usable_cpus() // options.jobs))]
    if options.keyword:
        grader_args += ["-k", options.keyword]
    if options.time_limit_scale:
        grader_args += ["--time-limit-scale", options.time_limit_scale]
    started = time.monotonic()
    csv_path = grade_all(options.submissions, options.output, options.jobs, options.timeout, grader_args)
    print(f"graded in {time.monotonic() - started:.0f} s; scores in {csv_path}")


if __name__ == "__main__":
    main()
