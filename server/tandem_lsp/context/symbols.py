"""What one source file contributes to the index: definitions, imports, chunks.

`parse_source` runs the language's tree-sitter queries over a file and turns
the matches into plain records; it also cuts the file into prompt-sized
chunks aligned to definitions and lists each chunk's identifiers, which feed
the similarity search.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import NamedTuple

import tree_sitter as ts

from tandem_lsp.context.languages import LanguageSpec, load, parser_for

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
_COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment"})
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
    doc: str = ""


class Import(NamedTuple):
    module: str
    names: tuple[str, ...] = ()


@dataclass(slots=True)
class FileSymbols:
    language: str
    definitions: list[Definition]
    imports: list[Import]
    # [start, end) line ranges of prompt-sized pieces, and the file's identifiers.
    chunks: list[tuple[int, int]]
    terms: frozenset[bytes]
    tree: ts.Tree | None
    text: str


def parse_source(path: str, data: bytes, language: str, old_tree: ts.Tree | None = None) -> FileSymbols:
    """Definitions, imports and chunks of one file. `old_tree` (already edited) makes re-parsing incremental."""
    loaded = load(language)
    tree = parser_for(language).parse(data, old_tree) if old_tree is not None else parser_for(language).parse(data)
    root = tree.root_node
    cursor = ts.QueryCursor(loaded.query)
    # Not descending into function bodies is most of the query's speed.
    cursor.set_max_start_depth(loaded.spec.max_depth)
    matches = cursor.matches(root)
    definitions = _definitions(path, data, [m for m in matches if "stmt" not in m[1]], loaded.spec)
    imports = _imports(data, [m[1] for m in matches if "stmt" in m[1]], language)
    text = data.decode("utf-8", errors="replace")
    boundaries = sorted({child.start_point.row for child in root.named_children} | {d.start_line for d in definitions})
    chunks = make_chunks(text.count("\n") + 1, boundaries)
    return FileSymbols(language, definitions, imports, chunks, terms_of(data), tree, text)


# Bytes that can be part of an (ASCII) identifier; everything else splits words.
_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_SPLIT_TABLE = bytes(c if c in _WORD_BYTES else 0x20 for c in range(256))
_STOP_BYTES = frozenset(w.encode() for w in STOPWORDS)


def terms_of(data: bytes) -> frozenset[bytes]:
    """The distinctive words of a piece of code, as bytes (translate+split runs in C, twice as fast as a regex)."""
    return frozenset(set(data.translate(_SPLIT_TABLE).split()).difference(_STOP_BYTES))


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


def _outer(node: ts.Node) -> ts.Node:
    parent = node.parent
    while parent is not None and (
        parent.type in _WRAPPERS or (parent.type in _SINGLE_WRAPPERS and parent.named_child_count == 1)
    ):
        node, parent = parent, parent.parent
    return node


def _signature(data: bytes, node: ts.Node, outer: ts.Node, body: ts.Node | None) -> str:
    """The definition's header: from its first token (decorators, export, modifiers) to its body."""
    end = body.start_byte if body is not None and body.start_byte > node.start_byte else data.find(b"\n", node.start_byte)
    if end < 0 or end > node.end_byte:
        end = node.end_byte
    if outer.type == "decorated_definition":
        outer = node  # decorators would crowd the header out of its line cap
    lines = data[outer.start_byte : end].decode("utf-8", errors="replace").rstrip().split("\n")
    indent = outer.start_point.column
    header = [lines[0]]
    for line in lines[1:_MAX_SIGNATURE_LINES]:
        if line.lstrip().startswith(("#", "//", "/*", "*")) and not line.lstrip().startswith("#["):
            break  # a comment between the header and the body
        header.append(line[indent:] if indent and line[:indent].isspace() else line)
    return "\n".join(header)[:_MAX_SIGNATURE_CHARS]


def _clean_comment(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("/*#!").rstrip("*/").strip()
        if line:
            return line[:_MAX_DOC_CHARS]
    return ""


def _doc(data: bytes, outer: ts.Node, body: ts.Node | None) -> str:
    """First line of a docstring (Python) or of the comment right above the definition."""
    first = body.named_child(0) if body is not None and body.named_child_count else None
    if first is not None and first.type == "expression_statement":
        string = first.named_child(0) if first.named_child_count else None
        if string is not None and string.type == "string":
            return _clean_comment(_text(data, string).strip("\"'rRbBuUfF"))
    prev = outer.prev_named_sibling
    if prev is not None and prev.type in _COMMENT_TYPES and prev.end_point.row >= outer.start_point.row - 1:
        # Walk up a run of line comments to its first line.
        while True:
            before = prev.prev_named_sibling
            if before is None or before.type not in _COMMENT_TYPES or before.end_point.row < prev.start_point.row - 1:
                break
            prev = before
        return _clean_comment(_text(data, prev))
    return ""


def _definitions(
    path: str, data: bytes, matches: list[tuple[int, dict[str, list[ts.Node]]]], spec: LanguageSpec
) -> list[Definition]:
    best: dict[tuple[int, int], tuple[int, ts.Node, str, ts.Node]] = {}
    for pattern, captures in matches:
        names = captures.get("name")
        if not names:
            continue
        for capture, nodes in captures.items():
            if capture.startswith("def."):
                node = nodes[0]
                key = (node.start_byte, node.end_byte)
                if key not in best or pattern < best[key][0]:
                    best[key] = (pattern, node, capture[4:], names[0])
                break
    out = []
    for _, node, kind, name_node in sorted(best.values(), key=lambda item: item[1].start_byte):
        name_node = _name_node(name_node)
        if name_node is None:
            continue
        if kind in ("function", "class"):
            enclosing = _enclosing(node, spec)
            if enclosing == "local":
                continue  # helpers inside function bodies are not the workspace's API
            if enclosing == "method" and kind == "function":
                kind = "method"
        outer = _outer(node)
        end = node.end_point
        body = node.child_by_field_name("body")
        out.append(
            Definition(
                path=path,
                name=_text(data, name_node),
                kind=kind,
                start_line=outer.start_point.row,
                # A node that ends at column 0 ends on the previous line (e.g. #define).
                end_line=end.row - 1 if end.column == 0 and end.row > outer.start_point.row else end.row,
                signature=_signature(data, node, outer, body),
                doc=_doc(data, outer, body),
            )
        )
    return out


def _enclosing(node: ts.Node, spec: LanguageSpec) -> str:
    """ "method" for a function in a class-like body, "local" for one inside another function, else ""."""
    parent = node.parent
    for _ in range(3):
        if parent is None:
            return ""
        if parent.type in spec.containers:
            return "method"
        if parent.type in _FUNCTION_TYPES:
            return "local"
        parent = parent.parent
    return ""


_RUST_PATH_WORDS = frozenset({"crate", "self", "super", "as"})


def _imports(data: bytes, matches: list[dict[str, list[ts.Node]]], language: str) -> list[Import]:
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
        if len(modules) > 1 and not names and language == "python":
            out.extend(Import(m) for m in modules)  # import a, b
            continue
        module = modules[0] if modules else ""
        if language == "rust":
            # `use a::b::{C, D as E}`: the path is the module, its last segment the names.
            module = " ".join(module.split())
            names = [w for w in IDENTIFIER.findall(module.rsplit("::", 1)[-1]) if w not in _RUST_PATH_WORDS]
        elif language == "java":
            names = [] if "*" in modules else [module.rsplit(".", 1)[-1]]
        elif language in ("c", "cpp"):
            module = module.strip('"<>')
        elif language == "go" and not names:
            names = [module.rsplit("/", 1)[-1]]
        out.append(Import(module, tuple(dict.fromkeys(names))))
    return out
