"""Pattern rules and the directory walk, on real folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xltv.collect import Pattern, Selection, collect, relative_pattern, split_patterns
from xltv.errors import SettingsError


def make_tree(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)


def names(root: Path, include: list[str], exclude: list[str] | None = None) -> list[str]:
    return [found.name for found in collect(str(root), Selection.parse(include, exclude or []))]


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("**/*.xml", "a.xml", True),
        ("**/*.xml", "a/b/c.xml", True),
        ("**/TEST-*.xml", "build/TEST-x.xml", True),
        ("**/TEST-*.xml", "build/test-x.xml", False),
        ("*.xml", "a/b.xml", False),
        ("build/*.xml", "build/a.xml", True),
        ("build/*.xml", "build/sub/a.xml", False),
        ("build/**/a.xml", "build/a.xml", True),
        ("build/**/a.xml", "build/x/y/a.xml", True),
        ("build/**", "build/x/y/a.xml", True),
        ("build/", "build/x/a.xml", True),
        ("build/**", "other/a.xml", False),
        ("TEST-?.xml", "TEST-1.xml", True),
        ("TEST-?.xml", "TEST-12.xml", False),
        ("**/.hidden/*.xml", ".x/.hidden/r.xml", True),
        ("./reports/*.xml", "reports/r.xml", True),
        ("reports/a[1].xml", "reports/a[1].xml", True),
        ("reports/a[1].xml", "reports/a1.xml", False),
        ("**", "any/thing", True),
    ],
)
def test_pattern_matches(pattern: str, path: str, expected: bool) -> None:
    assert Pattern(pattern).matches(path) is expected


def test_pattern_rejects_parent_folder() -> None:
    with pytest.raises(SettingsError, match=r"'\.\.' leaves the root"):
        Pattern("../other/*.xml")


def test_split_patterns_commas_and_lines() -> None:
    assert split_patterns("a/*.xml, b/*.xml\n\n c/**\n") == ["a/*.xml", "b/*.xml", "c/**"]
    assert split_patterns(["x", "y,z"]) == ["x", "y", "z"]
    assert split_patterns(None) == []


def test_collect_sorted_relative_names(tmp_path: Path) -> None:
    make_tree(tmp_path, "z/TEST-b.xml", "a/TEST-a.xml", "a/notes.txt", "TEST-root.xml")

    assert names(tmp_path, ["**/TEST-*.xml"]) == ["TEST-root.xml", "a/TEST-a.xml", "z/TEST-b.xml"]


def test_collect_case_sensitive(tmp_path: Path) -> None:
    make_tree(tmp_path, "TEST-a.xml", "test-b.xml", "TEST-c.XML")

    assert names(tmp_path, ["*.xml"]) == ["TEST-a.xml", "test-b.xml"]


def test_collect_hidden_files_match(tmp_path: Path) -> None:
    make_tree(tmp_path, ".cache/TEST-a.xml", ".TEST-b.xml")

    assert names(tmp_path, ["**/*.xml"]) == [".TEST-b.xml", ".cache/TEST-a.xml"]


def test_collect_never_takes_git_folders(tmp_path: Path) -> None:
    make_tree(tmp_path, ".git/TEST-a.xml", "sub/.git/TEST-b.xml", "TEST-c.xml")

    assert names(tmp_path, ["**/*.xml"]) == ["TEST-c.xml"]
    assert names(tmp_path, [".git/**"]) == []


def test_collect_exclude_patterns_and_bang(tmp_path: Path) -> None:
    make_tree(tmp_path, "a/TEST-1.xml", "a/TEST-2.xml", "node_modules/x/TEST-3.xml")

    assert names(tmp_path, ["**/*.xml"], ["**/node_modules/**"]) == ["a/TEST-1.xml", "a/TEST-2.xml"]
    assert names(tmp_path, ["**/*.xml", "!**/TEST-2.xml"]) == [
        "a/TEST-1.xml",
        "node_modules/x/TEST-3.xml",
    ]


def test_collect_skips_excluded_folders_without_reading_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_tree(tmp_path, "keep/TEST-1.xml", "node_modules/TEST-2.xml")
    # Reading this folder would log a warning about the link to a folder outside the root.
    os.symlink("/tmp", tmp_path / "node_modules" / "outside")
    selection = Selection.parse(["**/*"], ["node_modules/**"])

    found = [result.name for result in collect(str(tmp_path), selection)]

    assert found == ["keep/TEST-1.xml"]
    assert "outside" not in caplog.text
    assert not selection.walks_into(("node_modules",))


def test_walk_prunes_folders_no_include_reaches(tmp_path: Path) -> None:
    selection = Selection.parse(["reports/**/*.xml", "build/TEST-*.xml"], [])

    assert selection.walks_into(("reports",))
    assert selection.walks_into(("reports", "a", "b"))
    assert selection.walks_into(("build",))
    assert not selection.walks_into(("build", "sub"))
    assert not selection.walks_into(("src",))


def test_collect_follows_links_inside_root(tmp_path: Path) -> None:
    make_tree(tmp_path, "real/TEST-a.xml", "real/other/TEST-b.xml")
    os.symlink(tmp_path / "real", tmp_path / "linked")
    os.symlink(tmp_path / "real" / "other" / "TEST-b.xml", tmp_path / "TEST-link.xml")

    assert names(tmp_path, ["linked/*.xml", "TEST-link.xml"]) == [
        "TEST-link.xml",
        "linked/TEST-a.xml",
    ]


def test_collect_file_reached_twice_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    make_tree(tmp_path, "real/TEST-a.xml")
    os.symlink(tmp_path / "real", tmp_path / "a-linked")
    os.symlink(tmp_path / "real" / "TEST-a.xml", tmp_path / "TEST-link.xml")
    os.link(tmp_path / "real" / "TEST-a.xml", tmp_path / "real" / "TEST-hard.xml")

    found = names(tmp_path, ["**/*.xml"])

    assert found == ["real/TEST-a.xml"]
    assert "Left out TEST-link.xml: the same file as " in caplog.text


def test_collect_skips_links_outside_root(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "root"
    make_tree(root, "TEST-a.xml")
    make_tree(tmp_path, "outside/TEST-secret.xml")
    os.symlink(tmp_path / "outside", root / "out-folder")
    os.symlink(tmp_path / "outside" / "TEST-secret.xml", root / "TEST-out.xml")
    os.symlink("/etc/passwd", root / "passwd.xml")

    assert names(root, ["**/*.xml"]) == ["TEST-a.xml"]
    warnings = "\n".join(record.getMessage() for record in caplog.records)
    assert "Skipped out-folder: a link to" in warnings
    assert "Skipped TEST-out.xml: a link to" in warnings
    assert "Skipped passwd.xml: a link to /etc/passwd, outside the root" in warnings


def test_collect_link_loops_end(tmp_path: Path) -> None:
    make_tree(tmp_path, "a/TEST-1.xml", "b/TEST-2.xml")
    os.symlink(tmp_path, tmp_path / "a" / "up")
    os.symlink(tmp_path / "b", tmp_path / "a" / "to-b")
    os.symlink(tmp_path / "a", tmp_path / "b" / "to-a")

    found = names(tmp_path, ["**/*.xml"])

    assert "a/TEST-1.xml" in found
    assert "b/TEST-2.xml" in found
    assert len(found) < 10


def test_collect_broken_link_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    make_tree(tmp_path, "TEST-a.xml")
    os.symlink(tmp_path / "missing.xml", tmp_path / "TEST-broken.xml")

    assert names(tmp_path, ["*.xml"]) == ["TEST-a.xml"]
    assert "target does not exist" in caplog.text


def test_collect_leaves_out_tool_files(tmp_path: Path) -> None:
    make_tree(tmp_path, "TEST-a.xml", "body.xml")
    selection = Selection.parse(["*.xml"], [])

    found = collect(str(tmp_path), selection, leave_out=[str(tmp_path / "body.xml")])

    assert [result.name for result in found] == ["TEST-a.xml"]


def test_collect_root_missing(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not a folder"):
        collect(str(tmp_path / "nope"), Selection.parse(["*"], []))


def test_relative_pattern_inside_root(tmp_path: Path) -> None:
    assert relative_pattern(f"{tmp_path}/build/*.xml", str(tmp_path)) == "build/*.xml"
    assert relative_pattern(f"!{tmp_path}/build/x.xml", str(tmp_path)) == "!build/x.xml"
    assert relative_pattern("build/*.xml", str(tmp_path)) == "build/*.xml"


def test_relative_pattern_outside_root(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="outside the root"):
        relative_pattern("/somewhere/else/*.xml", str(tmp_path))
