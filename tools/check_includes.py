#!/usr/bin/env python3
"""Enforces baton's subsystem boundaries (STYLE.md §3.2) and the real-time allow-list (§3.3).

For every file under src/ it checks:
  * each `#include "..."` names a file by its path from src/ (`"engine/event.h"`), and that
    path is one the including subsystem may use (ALLOWED below);
  * each `#include <...>` is not banned for the including subsystem (BANNED_SYSTEM below);
  * only the files in REAL_CLOCK_ALLOWED name `system_clock::now` / `steady_clock::now`.

Violations are printed as `FILE:LINE: message`, and the exit code is 1 if there are any.

Usage: tools/check_includes.py [--root DIR] [FILE...]
  With no FILE, checks every *.h/*.cc under <root>/src. The root defaults to the repository
  holding this script.

To change a rule, change the tables below in the same commit as the code that needs it,
and say why in the commit message: they are the boundary table in executable form.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import sys
from pathlib import Path

# What each subsystem may include from src/. An entry ending in "/" allows every header of
# that subsystem (subdirectories too); any other entry is a path pattern in which "*"
# matches within one path component only. A subsystem may always include its own headers.
ALLOWED: dict[str, list[str] | None] = {
    "base": [],
    "expr": ["base/"],
    "model": ["base/", "expr/"],
    "engine": ["base/", "model/", "expr/"],
    "store": ["base/"],
    "executors": [
        "base/",
        "engine/command.h",
        "engine/event.h",
        "engine/error.h",
        "engine/lifecycle.h",
        "observe/",
    ],
    "runtime": ["base/", "model/", "expr/", "engine/", "executors/", "observe/", "store/store.h",
                "store/hash.h"],
    "triggers": ["base/", "model/", "runtime/", "store/store.h"],
    # The store's read interfaces sit at the top of store/; concrete stores are in
    # store/<backend>/ and stay out of reach.
    "api": ["base/", "model/", "runtime/", "store/*.h", "observe/"],
    "observe": ["base/"],
    "cli": ["base/", "model/", "engine/", "runtime/", "executors/", "api/client.h"],
    "app": None,  # the wiring: may include anything
}

# System and third-party headers a subsystem must not include (fnmatch patterns on the
# text between < and >). The engine is pure: no clocks, threads, randomness or I/O.
BANNED_SYSTEM: dict[str, list[str]] = {
    "engine": [
        "thread",
        "chrono",
        "future",
        "condition_variable",
        "random",
        "curl/*",
        "sqlite3.h",
        "libpq-fe.h",
        "boost/asio*",
        "boost/beast*",
    ],
    "model": ["thread", "curl/*", "sqlite3.h", "libpq-fe.h"],
    "expr": ["thread", "curl/*", "sqlite3.h", "libpq-fe.h"],
    "base": ["curl/*", "sqlite3.h", "libpq-fe.h"],
}

# Files (paths from src/, glob patterns; "**" crosses directories) that may read the real
# clock. Everything else takes a base::Clock. Tests use FakeClock.
REAL_CLOCK_ALLOWED = [
    "base/system_clock.cc",
    "app/main.cc",
    "runtime/*.cc",
    "executors/**.cc",
]

QUOTED_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
ANGLE_INCLUDE = re.compile(r"^\s*#\s*include\s*<([^>]+)>")
REAL_CLOCK = re.compile(r"\b(system_clock|steady_clock|high_resolution_clock)\s*::\s*now\b")
SOURCE_SUFFIXES = {".h", ".cc"}


def pattern_matches(pattern: str, path: str) -> bool:
    """`dir/` matches everything below dir; else `*` stays in one component, `**` crosses."""
    if pattern.endswith("/"):
        return path.startswith(pattern)
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            regex += ".*"
            i += 2
        elif pattern[i] == "*":
            regex += "[^/]*"
            i += 1
        else:
            regex += re.escape(pattern[i])
            i += 1
    return re.fullmatch(regex, path) is not None


def is_identifier_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def strip_comments_and_strings(text: str) -> str:
    """Blanks out comments and string/char literals, keeping line breaks (and so line numbers)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join("\n" if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif text.startswith('R"', i) and not (i > 0 and is_identifier_char(text[i - 1])):
            m = re.match(r'R"([^(\s]{0,16})\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i)
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append("".join("\n" if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c == "'" and i > 0 and is_identifier_char(text[i - 1]):
            out.append(c)  # a digit separator (1'000) or a prefix (u8'x'): not a literal start
            i += 1
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (min(j + 1, n) - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


class Checker:
    def __init__(self, src: Path, display_root: Path):
        self.src = src
        self.display_root = display_root
        self.violations: list[str] = []

    def report(self, path: Path, line: int, message: str) -> None:
        try:
            shown = path.relative_to(self.display_root)
        except ValueError:
            shown = path
        self.violations.append(f"{shown}:{line}: {message}")

    def check_file(self, path: Path) -> None:
        rel = path.relative_to(self.src).as_posix()
        subsystem = rel.split("/", 1)[0]
        if "/" not in rel:
            self.report(path, 1, "source files belong in a subsystem directory src/<subsystem>/")
            return
        if subsystem not in ALLOWED:
            self.report(
                path,
                1,
                f"unknown subsystem '{subsystem}': add it to the boundary table "
                "(STYLE.md §3.2 and tools/check_includes.py)",
            )
            return
        allowed = ALLOWED[subsystem]
        text = path.read_text(encoding="utf-8", errors="replace")

        for number, line in enumerate(text.splitlines(), start=1):
            m = QUOTED_INCLUDE.match(line)
            if m:
                self.check_quoted(path, number, subsystem, allowed, m.group(1))
                continue
            m = ANGLE_INCLUDE.match(line)
            if m:
                header = m.group(1).strip()
                for banned in BANNED_SYSTEM.get(subsystem, []):
                    if fnmatch.fnmatchcase(header, banned):
                        message = f"{subsystem}/ must not include <{header}> (STYLE.md §3.2)"
                        self.report(path, number, message)

        if not any(pattern_matches(p, rel) for p in REAL_CLOCK_ALLOWED):
            code = strip_comments_and_strings(text)
            for number, line in enumerate(code.splitlines(), start=1):
                m = REAL_CLOCK.search(line)
                if m:
                    self.report(
                        path,
                        number,
                        f"reads the real clock ({m.group(1)}::now): take a base::Clock instead "
                        "(STYLE.md §3.3; allow-list in tools/check_includes.py)",
                    )

    def check_quoted(self, path: Path, number: int, subsystem: str, allowed, target: str) -> None:
        if target.startswith("./") or target.startswith("../") or "/" not in target:
            self.report(
                path,
                number,
                f'#include "{target}": include by the path from src/ '
                f'(e.g. "{subsystem}/{target.rsplit("/", 1)[-1]}"); use <> for system and '
                "third-party headers",
            )
            return
        target_subsystem = target.split("/", 1)[0]
        if target_subsystem not in ALLOWED:
            self.report(path, number, f'#include "{target}": not a header under src/<subsystem>/')
            return
        if not (self.src / target).is_file():
            self.report(path, number, f'#include "{target}": no such file under src/')
            # Still check the boundary: a typo should not hide a layering problem.
        if allowed is None or target_subsystem == subsystem:
            return
        if not any(pattern_matches(p, target) for p in allowed):
            may = ", ".join(allowed) if allowed else "nothing outside base/"
            self.report(
                path,
                number,
                f'{subsystem}/ must not include "{target}" (may include: {may}; STYLE.md §3.2)',
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)

    root = args.root.resolve()
    src = root / "src"
    if not src.is_dir():
        print(f"check_includes: no src/ under {root}", file=sys.stderr)
        return 2

    if args.files:
        files = []
        for f in args.files:
            f = f.resolve()
            if f.suffix in SOURCE_SUFFIXES and src in f.parents:
                files.append(f)
    else:
        files = sorted(p for p in src.rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file())

    checker = Checker(src, Path.cwd())
    for f in files:
        checker.check_file(f)

    for v in checker.violations:
        print(v)
    if checker.violations:
        print(
            f"check_includes: {len(checker.violations)} violation(s) in {len(files)} file(s)",
            file=sys.stderr,
        )
        return 1
    print(f"check_includes: {len(files)} file(s) OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
