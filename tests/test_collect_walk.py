"""The pruning walk of collect() finds the same files as a walk of every folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from xltv.collect import Selection, collect

FOLDER_NAMES = ("a", "b", "build", "node_modules", "test-results", ".hidden", ".git")
FILE_NAMES = ("TEST-1.xml", "TEST-22.xml", "r.xml", "x.txt", "a")
INCLUDES = (
    "**/*.xml",
    "**",
    "*.xml",
    "build/**",
    "b/",
    "**/test-results/**/*.xml",
    "**/TEST-?.xml",
    "a/*/r.xml",
    "**/a/**",
    "?/**/x.txt",
    "**/build/*",
    "!**/b/**",
    "**/**/*.xml",
    "**/a",
)
EXCLUDES = (
    "**/node_modules/**",
    "build/",
    "**/a/*.xml",
    "a/**",
    "**/b",
    "**/.hidden/**",
    "*/*/TEST-*",
    "**",
    "a/**/**",
    "**/**",
    "*/",
)


def walk_everything(root: str, selection: Selection) -> list[tuple[str, str, int]]:
    """Return (name, path, size) of the selected files, visiting every folder but .git."""
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name != ".git"]
        for name in files:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, root).replace(os.sep, "/")
            if selection.selects(relative):
                found.append((relative, path, os.stat(path).st_size))
    return sorted(found)


def make_tree(root: Path, files: list[tuple[tuple[str, ...], str]]) -> None:
    for folders, name in files:
        folder = root.joinpath(*folders)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            continue  # a file already has the name of one of the folders
        path = folder / name
        if not path.is_dir():
            path.write_text("/".join((*folders, name)))


trees = st.lists(
    st.tuples(
        st.lists(st.sampled_from(FOLDER_NAMES), max_size=4).map(tuple),
        st.sampled_from(FILE_NAMES),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(
    files=trees,
    include=st.lists(st.sampled_from(INCLUDES), min_size=1, max_size=3),
    exclude=st.lists(st.sampled_from(EXCLUDES), max_size=2),
)
def test_walk_same_as_full_walk(
    files: list[tuple[tuple[str, ...], str]], include: list[str], exclude: list[str]
) -> None:
    selection = Selection.parse(include, exclude)
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary).resolve()
        make_tree(root, files)

        expected = walk_everything(str(root), selection)
        collected = [
            (found.name, found.path, found.size) for found in collect(str(root), selection)
        ]

        assert collected == expected


def test_walk_node_modules_tree(tmp_path: Path) -> None:
    for package in range(3):
        for index in range(4):
            results = tmp_path / f"app-{package}" / "build" / f"results-{index}"
            results.mkdir(parents=True)
            (results / f"TEST-{index}.xml").write_text("<testsuite/>")
            (results / "output.txt").write_text("log")
            module = tmp_path / f"app-{package}" / "node_modules" / f"lib-{index}"
            module.mkdir(parents=True)
            (module / "junit.xml").write_text("<testsuite/>")
    selection = Selection.parse(["**/*.xml"], ["**/node_modules/**"])

    collected = [found.name for found in collect(str(tmp_path), selection)]

    assert collected == [name for name, _, _ in walk_everything(str(tmp_path), selection)]
    assert len(collected) == 12
    assert not [name for name in collected if "node_modules" in name]
