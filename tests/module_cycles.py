#!/usr/bin/env python3
"""Fails on a circle of imports between the modules of a host crate.

For each crate root (`host/*/src/lib.rs` and `main.rs`), follows its `mod`
declarations to the files of the crate (a file is a module, `foo/mod.rs` is
`foo`), and counts as an import of module B by module A every path of A that
names B: `use crate::…`, `use super::…`, `use self::…`, a `use` of a child
declared in A, and the same paths written out in code (`crate::b::f()`,
`super::b::X`, `child::f()`). A child's import of its parent counts like any
other; a `mod` declaration alone does not. Comments, strings and
`#[cfg(test)]` modules are left out: a test that imports `super::*` is no
circle.

Prints each circle (a strongly connected component of more than one module)
and exits 1, unless every import that closes it is allowed with
`--allow A<->B` (module paths as `crate::a::b`, or `a::b`, one pair a flag).

    tests/module_cycles.py [--allow runner<->cli] [host/cli ...]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
USE = re.compile(r"\buse\s+([^;]*);")


def strip(source: str) -> str:
    """The code of `source`, its comments, strings and chars as spaces."""
    out = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if source.startswith("//", i):
            end = source.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif source.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if source.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif source.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", source[i:j]))
            i = j
        elif (m := re.compile(r'b?r(#*)"').match(source, i)) and (
            i == 0 or not (source[i - 1].isalnum() or source[i - 1] == "_")
        ):
            close = '"' + m.group(1)
            end = source.find(close, m.end())
            end = n if end < 0 else end + len(close)
            out.append(re.sub(r"[^\n]", " ", source[i:end]))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and source[j] != '"':
                j += 2 if source[j] == "\\" else 1
            out.append(re.sub(r"[^\n]", " ", source[i : j + 1]))
            i = j + 1
        elif m := re.compile(r"'(?:\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'\n])'").match(
            source, i
        ):
            out.append(" " * (m.end() - i))
            i = m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def block_end(code: str, open_brace: int) -> int:
    """The index just past the brace that closes the one at `open_brace`."""
    depth = 0
    for j in range(open_brace, len(code)):
        if code[j] == "{":
            depth += 1
        elif code[j] == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(code)


def without_tests(code: str) -> tuple[str, list[str]]:
    """`code` without its `#[cfg(test)]` items; the test modules it declares
    in files of their own."""
    test_files = []
    attribute = re.compile(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
    while m := attribute.search(code):
        rest = re.compile(rf"\s*(?:#\s*\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+({IDENT})\s*([;{{])")
        item = rest.match(code, m.end())
        if item and item.group(2) == ";":
            test_files.append(item.group(1))
            end = item.end()
        elif item:
            end = block_end(code, item.end() - 1)
        else:
            # Any other item: up to its end (a `;` or its block).
            semi, brace = code.find(";", m.end()), code.find("{", m.end())
            if brace >= 0 and (semi < 0 or brace < semi):
                end = block_end(code, brace)
            else:
                end = semi + 1 if semi >= 0 else len(code)
        code = code[: m.start()] + re.sub(r"[^\n]", " ", code[m.start() : end]) + code[end:]
    return code, test_files


def expand(tree: str) -> list[list[str]]:
    """The paths of a `use` tree: `a::{b, c::{self, D}}` is a::b, a::c, a::c::D."""
    tree = re.sub(rf"\s+as\s+{IDENT}", "", tree)
    tree = re.sub(r"\s+", "", tree)
    paths: list[list[str]] = []

    def walk(prefix: list[str], text: str) -> None:
        depth, start, parts = 0, 0, []
        for k, ch in enumerate(text):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(text[start:k])
                start = k + 1
        parts.append(text[start:])
        for part in filter(None, parts):
            brace = part.find("{")
            if brace >= 0:
                head = [s for s in part[:brace].split("::") if s]
                walk(prefix + head, part[brace + 1 : part.rfind("}")])
            else:
                segments = [s for s in part.split("::") if s]
                segments = [s for s in segments if s != "self"] if prefix else segments
                paths.append(prefix + segments)

    walk([], tree)
    return paths


class Crate:
    def __init__(self, root: Path):
        self.root = root
        self.files: dict[tuple[str, ...], Path] = {}
        self.children: dict[tuple[str, ...], set[str]] = {}
        self.code: dict[tuple[str, ...], str] = {}
        self.inline: dict[tuple[str, ...], list[tuple[int, int]]] = {}
        self.add((), root)

    def add(self, module: tuple[str, ...], path: Path) -> None:
        code, tests = without_tests(strip(path.read_text()))
        self.files[module] = path
        self.code[module] = code
        self.children[module] = set()
        self.inline[module] = []
        here = path.parent if path.name in ("mod.rs", "lib.rs", "main.rs") else path.with_suffix("")
        for m in re.finditer(rf"\bmod\s+({IDENT})\s*([;{{])", code):
            name = m.group(1)
            if m.group(2) == "{":
                self.inline[module].append((m.end() - 1, block_end(code, m.end() - 1)))
                continue
            if name in tests:
                continue
            for candidate in (here / f"{name}.rs", here / name / "mod.rs"):
                if candidate.exists():
                    self.children[module].add(name)
                    self.add(module + (name,), candidate)
                    break

    def resolve(self, module: tuple[str, ...], segments: list[str], at: int) -> tuple[str, ...] | None:
        """The module of the crate a path written in `module` names, if any."""
        if not segments:
            return None
        head, rest = segments[0], segments[1:]
        if head == "crate":
            base = ()
        elif head in ("super", "self"):
            inline = sum(1 for start, end in self.inline[module] if start < at < end)
            ups = 0
            while segments and segments[0] == "super":
                ups += 1
                segments = segments[1:]
            if head == "self":
                segments = segments[1:]
            ups = max(0, ups - inline)
            if ups > len(module):
                return None
            base, rest = module[: len(module) - ups], segments
        elif head in self.children[module]:
            base, rest = module, segments
        else:
            return None
        found = base
        for segment in rest:
            if segment in self.children.get(found, ()):
                found = found + (segment,)
            else:
                break
        return found

    def imports(self) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
        graph: dict[tuple[str, ...], set[tuple[str, ...]]] = {m: set() for m in self.files}
        for module, code in self.code.items():
            paths: list[tuple[list[str], int]] = []
            for m in USE.finditer(code):
                paths += [(p, m.start()) for p in expand(m.group(1))]
            # Paths written out in code, the `use` items blanked out first.
            rest = USE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), code)
            for m in re.finditer(rf"(?<![\w:])({IDENT}(?:\s*::\s*{IDENT})+)", rest):
                paths.append((re.split(r"\s*::\s*", m.group(1)), m.start()))
            for segments, at in paths:
                target = self.resolve(module, segments, at)
                if target is not None and target != module:
                    graph[module].add(target)
        return graph


def components(graph: dict) -> list[list]:
    """Tarjan's strongly connected components."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def name(module: tuple[str, ...]) -> str:
    return "::".join(("crate",) + module)


def parse_allow(text: str) -> frozenset[str]:
    pair = [p.strip() for p in text.split("<->")]
    if len(pair) != 2 or not all(pair):
        raise argparse.ArgumentTypeError(f"{text!r} is not A<->B")
    return frozenset(p if p.startswith("crate") else f"crate::{p}" for p in pair)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("crates", nargs="*", help="crate directories (default: host/*)")
    parser.add_argument("--allow", action="append", type=parse_allow, default=[], metavar="A<->B")
    args = parser.parse_args()
    allowed = set(args.allow)
    crates = [Path(c) for c in args.crates] or sorted(p for p in (ROOT / "host").iterdir() if (p / "src").is_dir())
    failed = False
    for directory in crates:
        for root in ("lib.rs", "main.rs"):
            path = directory / "src" / root
            if not path.exists():
                continue
            graph = Crate(path).imports()
            # An allowed pair's imports do not count toward a circle.
            kept = {
                v: {w for w in ws if frozenset((name(v), name(w))) not in allowed}
                for v, ws in graph.items()
            }
            for component in components(kept):
                if len(component) < 2:
                    continue
                failed = True
                members = set(component)
                print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: modules in a circle:")
                for v in component:
                    for w in sorted(graph[v] & members):
                        if frozenset((name(v), name(w))) not in allowed:
                            print(f"  {name(v)} -> {name(w)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
