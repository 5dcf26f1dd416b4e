"""Collect result files under a root folder by Ant-style include and exclude patterns.

Pattern rules, as in Apache Ant: `**` matches any number of folders (zero included), `*`
any characters within one name and `?` one character. Matching is case-sensitive, and hidden
files match like any other. A pattern ending in `/` means everything below that folder.
`.git` folders are never collected. Folders that an exclude pattern covers whole, and folders
no include pattern can reach, are not walked into.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath
from typing import NamedTuple

from xltv.errors import SettingsError

log = logging.getLogger(__name__)

NEVER_WALKED = frozenset({".git"})


class ResultFile(NamedTuple):
    """A file to upload: its path on disk and its name inside the zip.

    A named tuple rather than a dataclass, because a walk may create tens of thousands of
    them: it is created about four times faster and takes about half the memory.
    """

    path: str
    name: str
    size: int


@lru_cache(maxsize=4096)
def segment_regex(segment: str) -> re.Pattern[str]:
    parts = []
    for char in segment:
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


class Pattern:
    """One Ant-style pattern, relative to the root."""

    def __init__(self, text: str) -> None:
        self.text = text
        normalized = text.strip()
        while normalized.startswith("./"):
            normalized = normalized[2:]
        if normalized.endswith("/"):
            normalized += "**"
        self.segments = tuple(part for part in normalized.split("/") if part not in ("", "."))
        if not self.segments:
            raise SettingsError(f"invalid pattern {text!r}: it matches no file name")
        if ".." in self.segments:
            raise SettingsError(
                f"invalid pattern {text!r}: '..' leaves the root; set root to a folder "
                "that contains the results instead"
            )
        self.regex = re.compile(to_regex(self.segments), re.DOTALL)
        # A pattern ending in /** covers whole every folder its other segments match. It is
        # compiled once here because the walk checks every folder against it.
        self.folder_regex: re.Pattern[str] | None = None
        if len(self.segments) >= 2 and self.segments[-1] == "**":
            self.folder_regex = re.compile(to_regex(self.segments[:-1]), re.DOTALL)

    def matches(self, path: str) -> bool:
        return self.regex.fullmatch(path) is not None

    def may_match_below(self, folder: tuple[str, ...]) -> bool:
        """Tell whether a file below this folder (relative, split by /) can match."""
        return reaches(self.segments, folder)

    def covers_whole(self, folder: tuple[str, ...]) -> bool:
        """Tell whether every file below this folder matches, so the walk can skip it."""
        if self.folder_regex is None:
            return False
        return self.folder_regex.fullmatch("/".join(folder)) is not None


def to_regex(segments: tuple[str, ...]) -> str:
    """Translate the segments of a pattern into a regular expression for fullmatch."""
    regex = ""
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            regex += "(?:[^/]+/)*[^/]+" if last else "(?:[^/]+/)*"
        else:
            regex += segment_regex(segment).pattern + ("" if last else "/")
    return regex


@lru_cache(maxsize=65536)
def reaches(segments: tuple[str, ...], folder: tuple[str, ...]) -> bool:
    if not folder:
        return bool(segments)
    if not segments:
        return False
    head = segments[0]
    if head == "**":
        return reaches(segments[1:], folder) or reaches(segments, folder[1:])
    if segment_regex(head).fullmatch(folder[0]) is None:
        return False
    return reaches(segments[1:], folder[1:])


def split_patterns(value: str | list[str] | None) -> list[str]:
    """Split patterns given as one text (commas or new lines) or as a list."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    patterns = []
    for item in items:
        for line in str(item).replace(",", "\n").splitlines():
            if line.strip():
                patterns.append(line.strip())
    return patterns


@dataclass
class Selection:
    """Compiled include and exclude patterns."""

    include: list[Pattern]
    exclude: list[Pattern]
    # One alternation per list, so selecting a file runs two regex matches, not one per
    # pattern; fullmatch of (?:A)|(?:B) succeeds when A or B matches the whole name.
    include_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    exclude_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.include_regex = alternation(self.include)
        self.exclude_regex = alternation(self.exclude)

    @classmethod
    def parse(cls, include: list[str], exclude: list[str]) -> Selection:
        includes, excludes = [], []
        for text in include:
            if text.startswith("!"):
                excludes.append(Pattern(text[1:]))
            else:
                includes.append(Pattern(text))
        excludes.extend(Pattern(text) for text in exclude)
        return cls(includes, excludes)

    def selects(self, name: str) -> bool:
        if self.include_regex is None or self.include_regex.fullmatch(name) is None:
            return False
        return self.exclude_regex is None or self.exclude_regex.fullmatch(name) is None

    def walks_into(self, folder: tuple[str, ...]) -> bool:
        if folder[-1] in NEVER_WALKED:
            return False
        if any(pattern.covers_whole(folder) for pattern in self.exclude):
            return False
        return any(pattern.may_match_below(folder) for pattern in self.include)


def alternation(patterns: list[Pattern]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{pattern.regex.pattern})" for pattern in patterns), re.DOTALL)


def inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def shown_name(relative: str) -> str:
    """Return a name for messages, with undecodable bytes written as \\xNN."""
    return relative.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def zip_name(relative: str) -> str:
    """Return the name stored in the zip: UTF-8, with undecodable bytes replaced."""
    if relative.isascii():
        return relative
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        fixed = relative.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        log.warning("File name '%s' is not valid UTF-8; stored as %r", shown_name(relative), fixed)
        return fixed
    return relative


def collect(root: str, selection: Selection, leave_out: Iterable[str] = ()) -> list[ResultFile]:
    """Walk the root once and return the selected files, sorted by zip name.

    Symbolic links are followed only when their target is inside the root; a link to a
    folder that was already walked is skipped, so loops end. A file reached by several
    names (links, hard links) is collected once: under a name without a link if it has
    one, else under the first name in sorted order. `leave_out` holds real paths of files
    the tool writes itself, which are never collected.
    """
    real_root = os.path.realpath(root)
    if not os.path.isdir(real_root):
        raise SettingsError(f"invalid root {root!r}: not a folder; set root to the results folder")
    left_out = {os.path.realpath(path) for path in leave_out}
    found: dict[str, ResultFile] = {}
    # The name on disk of each stored name that differs from it (undecodable bytes).
    original_names: dict[str, str] = {}
    # For each file, keyed by file_key(): the name it is kept under. Names reached through
    # a link are also in linked_names. Both are lean because a walk may keep 100,000 files.
    kept: dict[int, str] = {}
    linked_names: set[str] = set()
    # Real paths of the folders entered through a link, so that a loop of links ends.
    linked_folders = {real_root}

    pending: list[tuple[str, tuple[str, ...], bool]] = [(real_root, (), False)]
    while pending:
        folder, parts, through_link = pending.pop()
        try:
            # Unsorted: the result is sorted once at the end, and every choice between two
            # names below takes the smaller one, so the walk order does not matter.
            entries = list(os.scandir(folder))
        except OSError as error:
            log.warning("Skipped folder %s: %s", "/".join(parts) or root, error.strerror)
            continue

        prefix = "/".join(parts) + "/" if parts else ""
        for entry in entries:
            relative = prefix + entry.name

            # DirEntry takes is_dir and is_symlink from the folder listing, without a
            # system call; a link is never is_dir here, because links are not followed.
            if entry.is_dir(follow_symlinks=False):
                entry_parts = (*parts, entry.name)
                if selection.walks_into(entry_parts):
                    pending.append((entry.path, entry_parts, through_link))
                continue

            if not entry.is_symlink():
                if not selection.selects(relative):
                    continue
                path = entry.path
            else:
                entry_parts = (*parts, entry.name)
                target = os.path.realpath(entry.path)
                if not inside(target, real_root):
                    log.warning("Skipped %s: a link to %s, outside the root", relative, target)
                    continue
                if not os.path.exists(target):
                    log.warning("Skipped %s: a link whose target does not exist", relative)
                    continue
                if os.path.isdir(target):
                    if target in linked_folders:
                        log.warning("Skipped %s: a link to a folder already collected", relative)
                        continue
                    if selection.walks_into(entry_parts):
                        linked_folders.add(target)
                        pending.append((target, entry_parts, True))
                    continue
                if not selection.selects(relative):
                    continue
                path = target

            try:
                file_stat = os.stat(path)
            except OSError as error:
                log.warning("Skipped %s: %s", relative, error.strerror)
                continue
            if not stat.S_ISREG(file_stat.st_mode):
                continue
            if left_out and os.path.realpath(path) in left_out:
                log.debug("Left out %s: written by xltv itself", relative)
                continue

            name = zip_name(relative)
            if name in found:
                # Only names with undecodable bytes can meet here, after replacement.
                taken_by = original_names.get(name, name)
                kept_name, dropped = sorted((taken_by, relative))
                log.warning(
                    "Left out %s: its name stored as %r is taken by %s",
                    shown_name(dropped),
                    name,
                    shown_name(kept_name),
                )
                if kept_name == taken_by:
                    continue
                del found[name]
            linked = through_link or entry.is_symlink()
            key = file_key(file_stat)
            if key in kept:
                other = kept[key]
                if (other in linked_names, other) <= (linked, name):
                    log.info("Left out %s: the same file as %s", relative, other)
                    continue
                log.info("Left out %s: the same file as %s", other, relative)
                del found[other]
                linked_names.discard(other)
            kept[key] = name
            if linked:
                linked_names.add(name)
            found[name] = ResultFile(path, name, file_stat.st_size)
            if name != relative:
                original_names[name] = relative

    # The cache contains a key per folder walked, so free it before the caller zips the files.
    reaches.cache_clear()
    return [found[name] for name in sorted(found)]


def file_key(file_stat: os.stat_result) -> int:
    """Return one integer for (device, inode), smaller in memory than the tuple."""
    return (file_stat.st_dev << 64) | file_stat.st_ino


def relative_pattern(pattern: str, root: str) -> str:
    """Make an absolute pattern relative to the root, or reject one outside it."""
    negated = pattern.startswith("!")
    text = pattern[1:] if negated else pattern
    if not text.startswith("/"):
        return pattern

    real_root = os.path.realpath(root)
    for candidate_root in dict.fromkeys((os.path.abspath(root), real_root)):
        if inside(text, candidate_root):
            relative = (
                str(PurePosixPath(text).relative_to(candidate_root))
                if text != candidate_root
                else ""
            )
            suffix = "/" if text.endswith("/") else ""
            pattern_text = relative + suffix if relative else "**"
            return "!" + pattern_text if negated else pattern_text
    raise SettingsError(
        f"invalid pattern {pattern!r}: it is outside the root {root}; make it relative to "
        "the root or set root to a folder that contains it"
    )
