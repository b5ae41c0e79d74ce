"""Finding the part modules among the files a student uploaded to Gradescope."""

import stat
import zipfile

from autograder.gradescope.submission import MAX_MODULE_BYTES, collect, part_modules
from tests.gradescope_runs import MODULES, REPO_ROOT

PARTS = part_modules(REPO_ROOT / "autograder")


def write(path, text="x = 1\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_part_modules_come_from_the_test_files():
    assert list(PARTS) == MODULES
    assert PARTS["network.py"] == "1 network"
    assert [int(part.split()[0]) for part in PARTS.values()] == sorted(int(part.split()[0]) for part in PARTS.values())


def test_single_files_folders_and_zips_at_any_depth(tmp_path):
    upload = tmp_path / "upload"
    write(upload / MODULES[0], "first")
    write(upload / "deep" / "er" / MODULES[1], "second")
    (upload / "more").mkdir()
    with zipfile.ZipFile(upload / "more" / "hw.zip", "w") as archive:
        for module in MODULES[2:]:
            archive.writestr(f"a/b/{module}", f"from zip: {module}")
        archive.writestr("__MACOSX/a/b/._" + MODULES[0], "resource fork")
        archive.writestr("a/b/notes.md", "notes")
    collected = collect(upload, tmp_path / "target", PARTS)
    assert collected.missing == []
    assert (tmp_path / "target" / MODULES[0]).read_text() == "first"
    assert (tmp_path / "target" / MODULES[1]).read_text() == "second"
    for module in MODULES[2:]:
        assert (tmp_path / "target" / module).read_text() == f"from zip: {module}"
        assert collected.graded[module] == f"more/hw.zip: a/b/{module}"
    assert collected.ignored == ["more/hw.zip: a/b/notes.md"]
    assert (tmp_path / "target").stat().st_mode & stat.S_IROTH and (tmp_path / "target" / MODULES[0]).stat().st_mode & stat.S_IROTH


def test_the_shallowest_copy_is_graded_and_the_others_listed(tmp_path):
    upload = tmp_path / "upload"
    write(upload / "assignment" / MODULES[0], "in folder")
    write(upload / MODULES[0], "at the top")
    with zipfile.ZipFile(upload / "hw.zip", "w") as archive:
        archive.writestr(MODULES[0], "in zip")
    collected = collect(upload, tmp_path / "target", PARTS)
    assert (tmp_path / "target" / MODULES[0]).read_text() == "at the top"
    # A folder and a zip are one level each; at the same depth a loose file comes first.
    assert collected.unused_copies[MODULES[0]] == [f"assignment/{MODULES[0]}", f"hw.zip: {MODULES[0]}"]
    assert f"{MODULES[0]} was uploaded more than once; graded {MODULES[0]}" in collected.report()


def test_missing_parts_are_named_with_what_was_uploaded(tmp_path):
    upload = tmp_path / "upload"
    write(upload / MODULES[0].capitalize())
    write(upload / "notes.txt")
    write(upload / ".DS_Store")
    write(upload / "__MACOSX" / f"._{MODULES[0]}")
    write(upload / f"{MODULES[1][:-3]} (1).py")
    (upload / "broken.zip").write_bytes(b"not a zip")
    write(upload / "big" / MODULES[2], "#" * (MAX_MODULE_BYTES + 1))
    collected = collect(upload, tmp_path / "target", PARTS)
    assert collected.missing == MODULES
    report = collected.report()
    assert f"Missing: {MODULES[0]} (Part {PARTS[MODULES[0]]}) is not among the files you uploaded" in report
    assert f"{MODULES[0].capitalize()} looks like {MODULES[0]} under another name: rename it to {MODULES[0]}." in report
    assert f"{MODULES[1][:-3]} (1).py looks like {MODULES[1]} under another name" in report
    assert "broken.zip (not a readable zip)" in report and f"big/{MODULES[2]} (too large" in report
    assert "notes.txt" in report and "__MACOSX" not in report and ".DS_Store" not in report
    assert not any((tmp_path / "target").iterdir())


def test_an_empty_upload_misses_every_part(tmp_path):
    (tmp_path / "upload").mkdir()
    collected = collect(tmp_path / "upload", tmp_path / "target", PARTS)
    assert collected.missing == MODULES and "Files you uploaded: none" in collected.report()
