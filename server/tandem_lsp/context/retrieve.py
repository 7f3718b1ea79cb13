"""Cross-file context for a cursor: what the code there uses, what resembles it, what changed lately.

Retrieval reads the index through an `IndexView` and never locks or writes:
the index builds a view under its lock for each request, and tests build one
from a few files.
"""

from __future__ import annotations

import bisect
import heapq
import math
import os
import re
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Literal, Protocol

from tandem_lsp.context.postings import Postings
from tandem_lsp.context.resolve import PathHint, matches, module_hints
from tandem_lsp.context.symbols import IDENTIFIER, STOPWORDS, Definition, Import, doc_of, parse_source, terms_of
from tandem_lsp.languages import grammar_for_path, line_comment

# Retrieval shape: how far around the cursor identifiers count as "used
# there", how many snippets of each kind, and how long a snippet may be.
NEAR_LINES_BEFORE = 20
NEAR_LINES_AFTER = 5
# Few whole definitions: past those, signatures tell the model more per token.
MAX_DEFINITIONS = 4
MAX_SIMILAR = 3
MAX_RECENT = 3
DEFINITION_LINES = 14
OUTLINE_LINES = 20
SIMILAR_LINES = 24
RECENT_CONTEXT_LINES = 3
# Terms found in more files than this share say little and cost much to score.
COMMON_TERM_SHARE = 0.1
# Files whose chunks are searched for similar code, and the usual chunk length.
SIMILAR_FILES = 4
CHUNK_QUERY_TERMS = 12
CHUNK_AVERAGE_LINES = 20
# The prompt's own window of the current file, for de-duplication.
WINDOW_BEFORE_CHARS = 6000
WINDOW_AFTER_CHARS = 2000
DUPLICATE_SHARE = 0.6
# A buffer the index does not hold is parsed during retrieval only when this small.
LOCAL_PARSE_CHARS = 60_000
_CONTAINER_KINDS = frozenset({"class", "struct", "interface", "enum", "module"})
# Kinds a name can be guessed to refer to without an import saying so.
_API_KINDS = frozenset({"function", "class", "struct", "interface", "enum", "type", "macro"})
# Imported names (and used `module.member`s) whose signatures are offered.
MAX_STUBS = 24
# How far from the cursor (characters) uses of imported names are looked for.
USE_SCAN_CHARS = 50_000


@dataclass(frozen=True)
class ContextSnippet:
    path: str  # workspace-relative, forward slashes
    text: str
    kind: Literal["definition", "similar", "recent"]
    score: float
    start_line: int


class IndexedFile(Protocol):
    """One file as retrieval reads it."""

    @property
    def path(self) -> str: ...  # absolute
    @property
    def rel(self) -> str: ...  # workspace-relative, forward slashes
    @property
    def language(self) -> str: ...  # LSP language id
    @property
    def grammar(self) -> str: ...
    @property
    def key(self) -> str: ...  # resolve.path_key of the path
    @property
    def text(self) -> str: ...
    @property
    def definitions(self) -> Sequence[Definition]: ...
    @property
    def imports(self) -> Sequence[Import]: ...
    @property
    def chunks(self) -> Sequence[tuple[int, int]]: ...  # [start, end) line ranges


@dataclass(frozen=True)
class IndexView:
    """What retrieval reads of the index: its own structures, not copies, so read under its lock."""

    files: Mapping[str, IndexedFile]  # by absolute path
    definitions_by_name: Mapping[str, Sequence[Definition]]
    # Identifier -> ids of the file versions using it. An id indexes `owners`
    # and `term_counts`; a replaced version keeps its id with owner None.
    postings: Postings
    owners: Sequence[str | None]
    term_counts: Sequence[int]  # distinct identifiers per file version
    live_terms: int  # postings of the current versions, for BM25's average file length
    recent: Sequence[tuple[str, int, int]]  # edited (path, first line, last line), oldest first


@dataclass(frozen=True)
class Cursor:
    """Where context is wanted, and the code around it that retrieval looks for."""

    path: str  # absolute
    text: str
    offset: int
    window: set[str]  # stripped lines the prompt shows of this file anyway
    near: NearCode
    query: set[bytes]  # identifiers close to the cursor, for the similarity search


def cursor_at(path: str, text: str, offset: int) -> Cursor:
    offset = max(0, min(offset, len(text)))
    before = text[max(0, offset - WINDOW_BEFORE_CHARS) : offset].split("\n")
    after = text[offset : offset + WINDOW_AFTER_CHARS].split("\n")
    window = {line.strip() for line in before + after if line.strip()}
    query = terms_of("\n".join(before[-NEAR_LINES_BEFORE:] + after[:NEAR_LINES_AFTER]).encode("utf-8", errors="replace"))
    return Cursor(path, text, offset, window, _near_code(before, after), query)


LocalSymbols = tuple[str, Sequence[Definition], Sequence[Import]]  # grammar, definitions, imports


def parse_unindexed(path: str, text: str) -> LocalSymbols | None:
    """Definitions and imports of a file the index does not hold (parsed on the spot, small files only)."""
    grammar = grammar_for_path(path)
    if grammar is None or len(text) > LOCAL_PARSE_CHARS:
        return None
    try:
        symbols = parse_source(path, text.encode("utf-8", errors="replace"), grammar)
    except Exception:
        return None
    return grammar, symbols.definitions, symbols.imports


# The kinds of context, in the order they are looked for.
ALL_KINDS = ("definition", "similar", "recent")


def retrieve(
    view: IndexView, cursor: Cursor, deadline: float, local: LocalSymbols | None = None, kinds: Collection[str] = ALL_KINDS
) -> list[ContextSnippet]:
    """Cross-file context for a cursor, most useful first, until `deadline` (time.perf_counter()).

    Definitions of names used near the cursor come first, then signatures
    of the imported names the file uses (nearest use first) and of the
    other imported names, then chunks of other files that share rare
    identifiers with the code around the cursor, then recently edited
    ranges of other files; only the `kinds` asked for are looked for.
    `local` stands for the file's own symbols when the view does not hold it.
    """
    if local is None and (entry := view.files.get(cursor.path)) is not None:
        local = (entry.grammar, entry.definitions, entry.imports)
    retrieval = _Retrieval(view, cursor.path, cursor.window, deadline)
    if local is not None and "definition" in kinds:
        retrieval.definitions(cursor.near, cursor.text, cursor.offset, *local)
    if "similar" in kinds and time.perf_counter() < deadline:
        retrieval.similar(cursor.query)
    if "recent" in kinds and time.perf_counter() < deadline:
        retrieval.recent()
    return retrieval.out


def _bm25(score: float, length: float, average: float, k1: float = 1.2, b: float = 0.75) -> float:
    """BM25 with binary term frequency: `score` is the sum of the shared terms' idf."""
    return score * (k1 + 1) / (1 + k1 * (1 - b + b * length / average))


@dataclass
class NearCode:
    """Identifiers around the cursor."""

    names: list[str]  # nearest first: the cursor line, the lines above, the lines below
    qualifiers: dict[str, set[str]]  # name -> what it was reached through (`mod` in `mod.name`)
    assigned: set[str]  # names given a value there (local variables, not workspace definitions)
    bare: set[str]  # names seen at least once without a qualifier


_QUALIFIED = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*(?:\.|::|->)\s*([A-Za-z_][A-Za-z0-9_]*)")
_BARE = re.compile(r"(?<![\w.:>])([A-Za-z_][A-Za-z0-9_]*)")
_ASSIGNED = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=\n]*)?=(?!=)")


def _near_code(before: list[str], after: list[str]) -> NearCode:
    lines = [before[-1] + (after[0] if after else "")]
    lines += before[-2 : -NEAR_LINES_BEFORE - 1 : -1] + after[1 : NEAR_LINES_AFTER + 1]
    names: dict[str, None] = {}
    for line in lines:
        for name in IDENTIFIER.findall(line):
            if name not in STOPWORDS and not (name.startswith("__") and name.endswith("__")):
                names.setdefault(name)
    text = "\n".join(lines)
    qualifiers: dict[str, set[str]] = {}
    for qualifier, name in _QUALIFIED.findall(text):
        qualifiers.setdefault(name, set()).add(qualifier)
    return NearCode(list(names), qualifiers, set(_ASSIGNED.findall(text)), set(_BARE.findall(text)))


# Import statements (Python's parenthesised ones span lines): their names are not uses.
_IMPORT_STATEMENT = re.compile(r"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+)?import\b(?:[ \t]*\([^)]*\)|[^\n]*)", re.MULTILINE)
_STAR_IMPORT = re.compile(r"^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]*\*", re.MULTILINE)


def _imported_uses(text: str, offset: int, names: Iterable[str], modules: Iterable[str]) -> list[tuple[str, str]]:
    """Imported names and `module.member`s the file uses, nearest use to the cursor first.

    Each is (name, "") for an imported name or (member, module alias). These
    are the names the code around the cursor most likely calls next, even
    when the prompt's window of the file shows none of their uses.
    """
    names, modules = set(names), set(modules)
    words = sorted(names | modules, key=len, reverse=True)
    if not words:
        return []
    start = max(0, offset - USE_SCAN_CHARS)
    cursor_line = text.count("\n", start, offset)
    # Blank out import statements, keeping their line breaks so line numbers hold.
    scanned = _IMPORT_STATEMENT.sub(lambda m: "\n" * m.group().count("\n"), text[start : offset + USE_SCAN_CHARS])
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, words)) + r")\b(?:[ \t]*\.[ \t]*([A-Za-z_]\w*))?")
    distance: dict[tuple[str, str], int] = {}
    line, previous = 0, 0
    for match in pattern.finditer(scanned):
        line += scanned.count("\n", previous, match.start())
        previous = match.start()
        word, member = match.groups()
        keys = [(word, "")] if word in names else []
        if member and word in modules:
            keys.append((member, word))
        for key in keys:
            distance[key] = min(distance.get(key, 1 << 30), abs(line - cursor_line))
    return sorted(distance, key=distance.__getitem__)


def _best(candidates: list[Definition]) -> Definition | None:
    """Prefer API-like kinds (classes, functions) and shallow paths."""
    if not candidates:
        return None
    return min(candidates, key=lambda d: (d.kind not in _API_KINDS, d.kind == "method", d.path.count(os.sep), d.path))


class _Retrieval:
    """One retrieve() call's state."""

    def __init__(self, view: IndexView, path: str, window: set[str], deadline: float) -> None:
        self.view = view
        self.path = path
        self.window = window
        self.deadline = deadline
        self.out: list[ContextSnippet] = []
        self.taken: dict[str, list[tuple[int, int]]] = {}
        self._lines: dict[str, list[str]] = {}

    def lines(self, path: str) -> list[str]:
        if path not in self._lines:
            self._lines[path] = self.view.files[path].text.split("\n")
        return self._lines[path]

    def add(self, path: str, start: int, end: int, text: str, kind: str, score: float) -> bool:
        """Keep a snippet unless it overlaps one already kept or repeats the current window."""
        if any(start <= b and a <= end for a, b in self.taken.get(path, ())):
            return False
        body = [line.strip() for line in text.split("\n") if line.strip()]
        if not body or sum(line in self.window for line in body) >= DUPLICATE_SHARE * len(body):
            return False
        self.taken.setdefault(path, []).append((start, end))
        entry = self.view.files[path]
        self.out.append(ContextSnippet(entry.rel, text, kind, round(score, 4), start))  # type: ignore[arg-type]
        return True

    # Definitions ------------------------------------------------------------------

    def definitions(
        self, near: NearCode, text: str, offset: int, grammar: str, local_defs: Sequence[Definition], imports: Sequence[Import]
    ) -> None:
        """Definitions of names used near the cursor, then signatures of the other imported names.

        Signatures go to the names the file uses, nearest use first, then to
        imported names the file does not use.
        """
        local = {d.name for d in local_defs}
        name_hints: dict[str, list[PathHint]] = {}  # imported name -> where it comes from
        module_hints_of: dict[str, list[PathHint]] = {}  # module alias (`os`, `fmt`) -> its files
        related: list[PathHint] = []
        for imp in imports:
            hints = module_hints(grammar, imp.module, self.path)
            related += hints
            # Go imports packages: its "names" are the package aliases used as qualifiers.
            if imp.names and grammar != "go":
                for name in imp.names:
                    name_hints.setdefault(name, []).extend(hints)
                    if grammar == "python":  # `from pkg import module`, then `module.name`
                        submodule = imp.module + ("" if imp.module.endswith(".") else ".") + name
                        module_hints_of.setdefault(name, []).extend(module_hints(grammar, submodule, self.path))
            for alias in imp.names if grammar == "go" else [re.split(r"[./:]+", imp.module)[-1]]:
                module_hints_of.setdefault(alias, []).extend(hints)
        # A Python name comes from another file only through an import; `import *` brings unnamed ones.
        star = [h for m in _STAR_IMPORT.findall(text) for h in module_hints(grammar, m, self.path)] if grammar == "python" else []
        found = 0
        for rank, name in enumerate(near.names):
            if found >= MAX_DEFINITIONS or time.perf_counter() > self.deadline:
                break
            if name in local:
                continue
            hints = name_hints.get(name) or [h for q in near.qualifiers.get(name, ()) for h in module_hints_of.get(q, ())]
            if not hints and grammar == "python":
                hints = star if name in near.bare else []
                if not hints:
                    continue  # a builtin, a local variable or an attribute the index cannot type
            if not hints and name not in near.bare:
                continue  # only seen as `obj.name` of an object the index cannot type
            best = self._resolve(name, hints, related, guess=name not in near.assigned and len(name) > 2)
            if best is not None and self.add_definition(best, 1.0 / (1.0 + 0.1 * rank)):
                found += 1
        # Names imported by name are a short list the file chose, and one imported but not
        # used yet is likely about to be; `module.member`s can be many. So: used imported
        # names, then unused imported names, then used members.
        used = _imported_uses(text, offset, name_hints, module_hints_of)
        seen = set(used)
        wanted = [u for u in used if not u[1]] + [(name, "") for name in name_hints if (name, "") not in seen]
        wanted += [u for u in used if u[1]]
        stubs: dict[str, list[Definition]] = {}
        resolved = 0
        for name, module in wanted:
            if resolved >= MAX_STUBS or time.perf_counter() > self.deadline:
                break
            hints = module_hints_of[module] if module else name_hints[name]
            if not hints or (name in local and not module):
                continue
            best = self._resolve(name, hints, [], guess=False)
            if best is not None and best not in stubs.get(best.path, ()):
                stubs.setdefault(best.path, []).append(best)
                resolved += 1
        for defs in stubs.values():
            self.add_signatures(defs, 0.5)

    def _resolve(self, name: str, hints: list[PathHint], related: list[PathHint], guess: bool) -> Definition | None:
        """The definition `name` refers to, or None when the index cannot tell.

        With `hints` (the name's own import) only a file the import names will
        do. Otherwise a definition in a file the current one imports or sits
        beside wins; failing that, a name defined exactly once in the
        workspace is taken when `guess` allows (not a local variable).
        """
        candidates = [d for d in self.view.definitions_by_name.get(name, ())[:200] if d.path != self.path]
        if not candidates:
            return None
        files = self.view.files
        if hints:
            return _best([d for d in candidates if any(matches(h, files[d.path].key) for h in hints)])
        here = os.path.dirname(self.path)
        near = [
            d
            for d in candidates
            if d.kind != "method"
            and (
                any(matches(h, files[d.path].key) for h in related)
                or (os.path.dirname(d.path) == here and d.kind in _API_KINDS)
            )
        ]
        if near:
            return _best(near)
        if guess and len(candidates) == 1 and candidates[0].kind in _API_KINDS:
            return candidates[0]
        return None

    def add_signatures(self, defs: list[Definition], score: float) -> bool:
        """One snippet with the headers (and doc lines) of several definitions of one file."""
        defs = [d for d in defs if not any(d.start_line <= b and a <= d.end_line for a, b in self.taken.get(d.path, ()))]
        if not defs:
            return False
        file = self.view.files[defs[0].path]
        marker = line_comment(file.language)
        text = self.lines(defs[0].path)
        lines = []
        for d in sorted(defs, key=lambda d: d.start_line):
            if doc := doc_of(d, text, file.grammar):
                lines.append(f"{marker} {doc}")
            lines.append(d.signature)
        start = min(d.start_line for d in defs)
        if not self.add(defs[0].path, start, start, "\n".join(lines), "definition", score):
            return False
        self.taken[defs[0].path].extend((d.start_line, d.end_line) for d in defs)
        return True

    def add_definition(self, d: Definition, score: float) -> bool:
        lines = self.lines(d.path)
        end = min(d.end_line, len(lines) - 1)
        language = self.view.files[d.path].language
        if d.kind in _CONTAINER_KINDS and end - d.start_line + 1 > OUTLINE_LINES:
            text = self._outline(d, lines, language)
        else:
            body = lines[d.start_line : end + 1]
            if len(body) > DEFINITION_LINES:
                indent = body[-1][: len(body[-1]) - len(body[-1].lstrip())] if body[-1].strip() else ""
                body = body[: DEFINITION_LINES - 1] + [f"{indent}    {line_comment(language)} ..."]
            text = "\n".join(body)
        return self.add(d.path, d.start_line, end, text, "definition", score)

    def _outline(self, d: Definition, lines: list[str], language: str) -> str:
        """A long class as its header and its members' first lines."""
        members = [m for m in self.view.files[d.path].definitions if d.start_line < m.start_line <= d.end_line]
        head_end = members[0].start_line if members else d.start_line + 1
        out = lines[d.start_line : min(head_end, d.start_line + 8)]
        last = head_end
        for m in members:
            if m.start_line < last:
                continue  # nested inside a member already listed
            out.append(lines[m.start_line])
            last = m.end_line + 1
            if len(out) >= OUTLINE_LINES - 1:
                break
        indent = lines[d.start_line][: len(lines[d.start_line]) - len(lines[d.start_line].lstrip())]
        out.append(f"{indent}    {line_comment(language)} ...")
        return "\n".join(out)

    # Similar chunks -----------------------------------------------------------------

    def similar(self, query: AbstractSet[bytes]) -> None:
        """Chunks sharing rare identifiers with the cursor's surroundings.

        Two stages: BM25 (binary term frequency) over whole files picks a few
        files, then the query's terms are located in those files' text to find
        their best chunks. File-level postings keep the index small and fast
        to build; the second stage reads only a handful of files.
        """
        view = self.view
        total = len(view.files)
        if not query or not total:
            return
        limit = max(20, int(total * COMMON_TERM_SHARE))
        postings = sorted((len(ids), term, ids) for term in query if (ids := view.postings.files_with(term)))
        idf: dict[bytes, float] = {}
        scores: dict[int, float] = {}
        for df, term, ids in postings:
            if df > limit or time.perf_counter() > self.deadline:
                break
            weight = idf[term] = math.log(1.0 + (total - df + 0.5) / (df + 0.5))
            for file_id in ids:
                scores[file_id] = scores.get(file_id, 0.0) + weight
        if time.perf_counter() > self.deadline:
            return
        owner = view.owners
        average = max(1.0, view.live_terms / total)
        files = heapq.nlargest(
            SIMILAR_FILES,
            (
                (_bm25(score, view.term_counts[fid], average), fid)
                for fid, score in scores.items()
                if owner[fid] is not None and owner[fid] != self.path
            ),
        )
        if not files:
            return
        # The rarest terms are the telling ones, and fewer terms mean fewer matches to walk.
        words = {t.decode("ascii"): w for t, w in heapq.nlargest(CHUNK_QUERY_TERMS, idf.items(), key=lambda item: item[1])}
        pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(words, key=len, reverse=True))) + r")\b")
        chunks: list[tuple[float, str, int, int]] = []
        for _, fid in files:
            path = owner[fid]
            assert path is not None
            chunks.extend(self._best_chunks(view.files[path], pattern, words))
            if time.perf_counter() > self.deadline:
                break
        kept = 0
        for score, path, start, end in sorted(chunks, reverse=True):
            text = "\n".join(self.lines(path)[start : min(end, start + SIMILAR_LINES)]).strip("\n")
            if self.add(path, start, end - 1, text, "similar", score / (score + 10.0)):
                kept += 1
                if kept >= MAX_SIMILAR or time.perf_counter() > self.deadline:
                    return

    def _best_chunks(self, entry: IndexedFile, pattern: re.Pattern[str], idf: dict[str, float]) -> list[tuple[float, str, int, int]]:
        """The two best-scoring chunks of one file for the query terms in `pattern`."""
        starts = [a for a, _ in entry.chunks]
        found: dict[int, set[str]] = {}
        text = entry.text
        line, previous = 0, 0
        for n, match in enumerate(pattern.finditer(text)):
            if n % 256 == 255 and time.perf_counter() > self.deadline:
                break
            line += text.count("\n", previous, match.start())
            previous = match.start()
            found.setdefault(bisect.bisect_right(starts, line) - 1, set()).add(match.group())
        scored = []
        for i, terms in found.items():
            start, end = entry.chunks[i]
            score = _bm25(sum(idf[t] for t in terms), end - start, CHUNK_AVERAGE_LINES)
            scored.append((score, entry.path, start, end))
        return heapq.nlargest(2, scored)

    # Recent edits ---------------------------------------------------------------------

    def recent(self) -> None:
        kept = 0
        for path, start, end in reversed(self.view.recent):
            if path == self.path or path not in self.view.files:
                continue
            lines = self.lines(path)
            a = max(0, start - RECENT_CONTEXT_LINES)
            b = min(len(lines), end + RECENT_CONTEXT_LINES + 1, a + DEFINITION_LINES)
            text = "\n".join(lines[a:b]).strip("\n")
            if text and self.add(path, a, b - 1, text, "recent", 0.2):
                kept += 1
                if kept >= MAX_RECENT:
                    return
