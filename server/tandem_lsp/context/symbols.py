"""What one source file contributes to the index: definitions, imports, chunks.

`parse_source` runs a grammar's tree-sitter queries over a file and turns
the matches into plain records; it also cuts the file into prompt-sized
chunks aligned to definitions and lists each chunk's identifiers, which feed
the similarity search.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import NamedTuple

import tree_sitter as ts

from tandem_lsp.context.grammars import GrammarSpec, LoadedGrammar, load, parser_for

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Words that say nothing about what a chunk is about; left out of the
# similarity search (and of the postings, which keeps the index small).
STOPWORDS = frozenset(
    """
    and as assert async await break case catch class const continue def default del delete do elif else
    enum except export extends false final finally for from func function global go if impl implements import
    in instanceof interface is lambda let match mod mut new nil none not null or package pass private protected
    pub public raise return self static struct super switch this throw throws true try type typeof use var
    void while with yield int char bool string float double long short unsigned signed auto sizeof typedef
    include define ifdef ifndef endif fn crate where loop ref dyn move usize isize str err error args kwargs
    cls len print range list dict set tuple object str bytes get
    """.split()
)

_MAX_SIGNATURE_LINES = 4
_MAX_SIGNATURE_CHARS = 300
_MAX_DOC_CHARS = 160
CHUNK_MAX_LINES = 30
_CHUNK_MIN_LINES = 8

# Leaf node types that hold a definition's name inside C/C++ declarators.
_NAME_TYPES = frozenset(
    {"identifier", "field_identifier", "type_identifier", "destructor_name", "operator_name", "namespace_identifier"}
)
_FUNCTION_TYPES = frozenset(
    {
        "function_definition",
        "function_declaration",
        "function_item",
        "method_definition",
        "method_declaration",
        "constructor_declaration",
        "arrow_function",
        "function_expression",
        "generator_function_declaration",
    }
)
# Wrappers whose start (and leading comment) belong to the definition they wrap.
_WRAPPERS = frozenset({"decorated_definition", "export_statement", "template_declaration"})
# Declarations that wrap a definition and own its keyword (`type`, `const`),
# when they hold that one definition only.
_SINGLE_WRAPPERS = frozenset({"type_declaration", "const_declaration", "var_declaration", "lexical_declaration", "variable_declaration"})


# Named tuples, not dataclasses: tuples of plain values drop out of the
# garbage collector's tracking, which keeps a large index cheap to hold.
class Definition(NamedTuple):
    path: str  # absolute filesystem path
    name: str
    kind: str  # function, method, class, struct, interface, enum, type, constant, variable, field, module, macro
    start_line: int  # 0-based, inclusive
    end_line: int  # 0-based, inclusive
    signature: str
    # Python: the line where the body starts, where a docstring would be (-1: none).
    # Docs are read from the text only for the few definitions shown (doc_of).
    body_line: int = -1


class Import(NamedTuple):
    module: str
    names: tuple[str, ...] = ()


@dataclass(slots=True)
class FileSymbols:
    grammar: str
    definitions: list[Definition]
    imports: list[Import]
    # [start, end) line ranges of prompt-sized pieces, and the file's identifiers.
    chunks: list[tuple[int, int]]
    terms: AbstractSet[bytes]
    tree: ts.Tree | None
    text: str


def parse_source(path: str, data: bytes, grammar: str, old_tree: ts.Tree | None = None) -> FileSymbols:
    """Definitions, imports and chunks of one file. `old_tree` (already edited) makes re-parsing incremental."""
    loaded = load(grammar)
    tree = parser_for(grammar).parse(data, old_tree) if old_tree is not None else parser_for(grammar).parse(data)
    root = tree.root_node
    cursor = ts.QueryCursor(loaded.query)
    # Not descending into function bodies is most of the query's speed.
    cursor.set_max_start_depth(loaded.spec.max_depth)
    found: list[tuple[int, dict[str, list[ts.Node]]]] = []
    statements: list[dict[str, list[ts.Node]]] = []
    for pattern, captures in cursor.matches(root):
        if loaded.pattern_kinds[pattern] is None:
            statements.append(captures)
        else:
            found.append((pattern, captures))
    definitions = _definitions(path, data, found, loaded)
    imports = _imports(data, statements, grammar)
    text = data.decode("utf-8", errors="replace")
    boundaries = sorted({child.start_point.row for child in root.named_children} | {d.start_line for d in definitions})
    chunks = make_chunks(text.count("\n") + 1, boundaries)
    return FileSymbols(grammar, definitions, imports, chunks, terms_of(data), tree, text)


# Bytes that can be part of an (ASCII) identifier; everything else splits words.
_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_SPLIT_TABLE = bytes(c if c in _WORD_BYTES else 0x20 for c in range(256))
_STOP_BYTES = frozenset(w.encode() for w in STOPWORDS)


def terms_of(data: bytes) -> set[bytes]:
    """The distinctive words of a piece of code, as bytes (translate+split runs in C, twice as fast as a regex)."""
    words = set(data.translate(_SPLIT_TABLE).split())
    words -= _STOP_BYTES  # in place: a copy of the set costs as much as the split
    return words


def make_chunks(line_count: int, boundaries: list[int]) -> list[tuple[int, int]]:
    """Cut [0, line_count) into windows of at most CHUNK_MAX_LINES lines, cutting at definition starts when one is near."""
    chunks = []
    start = 0
    while start < line_count:
        limit = min(start + CHUNK_MAX_LINES, line_count)
        cut = limit
        if limit < line_count:
            i = bisect.bisect_right(boundaries, limit) - 1
            if i >= 0 and boundaries[i] >= start + _CHUNK_MIN_LINES:
                cut = boundaries[i]
        chunks.append((start, cut))
        start = cut
    return chunks


def _text(data: bytes, node: ts.Node) -> str:
    return data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def _name_node(node: ts.Node) -> ts.Node | None:
    """The identifier naming a definition, dug out of nested C/C++ declarators."""
    for _ in range(8):
        if node.type in _NAME_TYPES:
            return node
        inner = node.child_by_field_name("declarator") or node.child_by_field_name("name")
        if inner is None:
            return node if node.named_child_count == 0 else None
        node = inner
    return None


def _outer(node: ts.Node, parent: ts.Node | None) -> ts.Node:
    """The wrapper owning `node`'s start (decorators, export, a one-definition declaration), else `node`."""
    while parent is not None:
        parent_type = parent.type
        if parent_type not in _WRAPPERS and (parent_type not in _SINGLE_WRAPPERS or parent.named_child_count != 1):
            break
        node, parent = parent, parent.parent
    return node


def _signature(data: bytes, start: int, header_end: int, indent: int) -> str:
    """The definition's header: the text from `start` (decorators aside) to `header_end`, at most a few lines."""
    text = data[start:header_end].decode("utf-8", errors="replace").rstrip()
    if "\n" not in text:
        return text[:_MAX_SIGNATURE_CHARS]  # the usual one-line header
    lines = text.split("\n")
    header = [lines[0]]
    for line in lines[1:_MAX_SIGNATURE_LINES]:
        if line.lstrip().startswith(("#", "//", "/*", "*")) and not line.lstrip().startswith("#["):
            break  # a comment between the header and the body
        header.append(line[indent:] if indent and line[:indent].isspace() else line)
    return "\n".join(header)[:_MAX_SIGNATURE_CHARS]


# A docstring's opening: prefix letters, then the quotes (not the letters of its first word: "Returns").
_DOCSTRING_OPEN = re.compile(r"""[rRbBuUfF]{0,2}(\"\"\"|'''|"|')""")
# Comment lines above a definition, by grammar family (a C `#define` or a Rust `#[derive]` is not one).
_HASH_COMMENTS = ("#",)
_SLASH_COMMENTS = ("//", "/*", "*")
# How far up a comment block above a definition is read.
_MAX_COMMENT_LINES = 30


def doc_of(definition: Definition, lines: Sequence[str], grammar: str) -> str:
    """First line of a definition's docstring (Python) or of the comment block right above it; "" when none."""
    row = definition.body_line
    if 0 <= row < len(lines):
        body = lines[row].lstrip()
        opened = _DOCSTRING_OPEN.match(body)
        if opened:
            quote = opened.group(1)
            for piece in [body[opened.end() :], *lines[row + 1 : row + 4]]:
                end = piece.find(quote)
                text = (piece if end < 0 else piece[:end]).strip()
                if text or end >= 0:
                    return text[:_MAX_DOC_CHARS]
            return ""
    markers = _HASH_COMMENTS if grammar == "python" else _SLASH_COMMENTS
    block: list[str] = []
    above = definition.start_line - 1
    while above >= 0 and len(block) < _MAX_COMMENT_LINES and lines[above].strip().startswith(markers):
        block.append(lines[above])
        above -= 1
    for line in reversed(block):
        line = line.strip().lstrip("/*#!").rstrip("*/").strip()
        if line:
            return line[:_MAX_DOC_CHARS]
    return ""


def _definitions(
    path: str, data: bytes, matches: list[tuple[int, dict[str, list[ts.Node]]]], loaded: LoadedGrammar
) -> list[Definition]:
    # Node properties cost a call into tree-sitter (parents are found from the
    # root down), so each one is read once and passed on.
    docstrings = loaded.spec.name == "python"
    best: dict[tuple[int, int], tuple[int, ts.Node, str, ts.Node]] = {}
    for pattern, captures in matches:
        names = captures.get("name")
        if not names:
            continue
        capture, kind = loaded.pattern_kinds[pattern]  # type: ignore[misc]
        node = captures[capture][0]
        key = (node.start_byte, node.end_byte)
        if key not in best or pattern < best[key][0]:
            best[key] = (pattern, node, kind, names[0])
    out = []
    for (start, end_byte), (_, node, kind, name_node) in sorted(best.items(), key=lambda item: item[0][0]):
        name_node = _name_node(name_node)
        if name_node is None:
            continue
        parent = node.parent
        if kind in ("function", "class"):
            enclosing = _enclosing(parent, loaded.spec)
            if enclosing == "local":
                continue  # helpers inside function bodies are not the workspace's API
            if enclosing == "method" and kind == "function":
                kind = "method"
        outer = _outer(node, parent)
        wrapped = outer is not node
        start_point = node.start_point
        outer_point = outer.start_point if wrapped else start_point
        end = node.end_point
        body = node.child_by_field_name("body")
        body_start = body.start_byte if body is not None else -1
        header_end = body_start if body_start > start else data.find(b"\n", start)
        if header_end < 0 or header_end > end_byte:
            header_end = end_byte
        # Decorators would crowd the header out of its line cap.
        own = not wrapped or outer.type == "decorated_definition"
        out.append(
            Definition(
                path=path,
                name=name_node.text.decode("utf-8", errors="replace"),  # type: ignore[union-attr]
                kind=kind,
                start_line=outer_point.row,
                # A node that ends at column 0 ends on the previous line (e.g. #define).
                end_line=end.row - 1 if end.column == 0 and end.row > outer_point.row else end.row,
                signature=_signature(data, start if own else outer.start_byte, header_end, (start_point if own else outer_point).column),
                body_line=body.start_point.row if docstrings and body is not None else -1,
            )
        )
    return out


def _enclosing(parent: ts.Node | None, spec: GrammarSpec) -> str:
    """ "method" for a function whose `parent` is in a class-like body, "local" for one inside another function, else ""."""
    for _ in range(3):
        if parent is None:
            return ""
        parent_type = parent.type
        if parent_type in spec.containers:
            return "method"
        if parent_type in _FUNCTION_TYPES:
            return "local"
        parent = parent.parent
    return ""


_RUST_PATH_WORDS = frozenset({"crate", "self", "super", "as"})


def _imports(data: bytes, matches: list[dict[str, list[ts.Node]]], grammar: str) -> list[Import]:
    # One match per imported name; group them under their statement (`@stmt`).
    grouped: dict[int, tuple[list[str], list[str]]] = {}
    for captures in matches:
        statement = captures["stmt"][0]
        modules, names = grouped.setdefault(statement.start_byte, ([], []))
        modules.extend(_text(data, n) for n in captures.get("module", []))
        names.extend(_text(data, n) for n in captures.get("name", []))
    out = []
    for modules, names in grouped.values():
        modules = list(dict.fromkeys(modules))
        if len(modules) > 1 and not names and grammar == "python":
            out.extend(Import(m) for m in modules)  # import a, b
            continue
        module = modules[0] if modules else ""
        if grammar == "rust":
            # `use a::b::{C, D as E}`: the path is the module, its last segment the names.
            module = " ".join(module.split())
            names = [w for w in IDENTIFIER.findall(module.rsplit("::", 1)[-1]) if w not in _RUST_PATH_WORDS]
        elif grammar == "java":
            names = [] if "*" in modules else [module.rsplit(".", 1)[-1]]
        elif grammar in ("c", "cpp"):
            module = module.strip('"<>')
        elif grammar == "go" and not names:
            names = [module.rsplit("/", 1)[-1]]
        out.append(Import(module, tuple(dict.fromkeys(names))))
    return out
