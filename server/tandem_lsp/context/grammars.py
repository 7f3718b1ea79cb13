"""The tree-sitter grammars the index parses with, and the queries it runs on them.

Which file or language id takes which grammar is tandem_lsp.languages' business.

Grammars come from the official per-language wheels (they ship compiled
parsers; nothing is fetched at run time) and are loaded on first use, so a
Python-only workspace never imports the C++ grammar.

Definition queries tag the whole definition node `@def.<kind>` and its name
`@name`; import queries tag the import statement `@stmt`, the imported
module `@module` and imported names `@name`. Kinds are coarse on purpose: a
prompt only needs to know what a snippet is, not the grammar's taxonomy.
"""

from __future__ import annotations

import importlib
import re
import threading
from dataclasses import dataclass

import tree_sitter as ts


@dataclass(frozen=True)
class GrammarSpec:
    name: str
    # Grammar wheel module and the function in it that returns the tree-sitter language.
    module: str
    entry: str
    definitions: str
    imports: str
    # Node types whose nested functions are methods.
    containers: frozenset[str]
    # Deepest tree level a definition may start at (root = 0); deeper ones are
    # locals of function bodies, which the index leaves out. Imports sit at
    # the top level or a little below it (if/try/#ifdef blocks), within reach.
    max_depth: int = 5


_PYTHON_DEFS = """
(function_definition name: (identifier) @name) @def.function
(class_definition name: (identifier) @name) @def.class
(module (expression_statement (assignment left: (identifier) @name) @def.variable))
"""
_PYTHON_IMPORTS = """
(import_statement name: (dotted_name) @module) @stmt
(import_statement name: (aliased_import name: (dotted_name) @module)) @stmt
(import_from_statement module_name: (_) @module name: (dotted_name) @name) @stmt
(import_from_statement module_name: (_) @module name: (aliased_import name: (dotted_name) @name)) @stmt
"""

_JS_DEFS = """
(function_declaration name: (_) @name) @def.function
(generator_function_declaration name: (_) @name) @def.function
(class_declaration name: (_) @name) @def.class
(method_definition name: (_) @name) @def.method
(variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @def.function
(program (lexical_declaration (variable_declarator name: (identifier) @name) @def.constant))
(program (export_statement (lexical_declaration (variable_declarator name: (identifier) @name) @def.constant)))
"""
_TS_EXTRA_DEFS = """
(abstract_class_declaration name: (_) @name) @def.class
(interface_declaration name: (_) @name) @def.interface
(type_alias_declaration name: (_) @name) @def.type
(enum_declaration name: (_) @name) @def.enum
(function_signature name: (_) @name) @def.function
(method_signature name: (_) @name) @def.method
(abstract_method_signature name: (_) @name) @def.method
(internal_module name: (_) @name) @def.module
"""
_JS_IMPORTS = """
(import_statement source: (string (string_fragment) @module)) @stmt
(import_statement (import_clause (named_imports (import_specifier name: (_) @name)))) @stmt
(import_statement (import_clause (identifier) @name)) @stmt
(import_statement (import_clause (namespace_import (identifier) @name))) @stmt
"""

_GO_DEFS = """
(function_declaration name: (_) @name) @def.function
(method_declaration name: (_) @name) @def.method
(type_spec name: (_) @name type: (struct_type)) @def.struct
(type_spec name: (_) @name type: (interface_type)) @def.interface
(type_spec name: (_) @name) @def.type
(type_alias name: (_) @name) @def.type
(method_elem name: (_) @name) @def.method
(source_file (const_declaration (const_spec name: (identifier) @name) @def.constant))
(source_file (var_declaration (var_spec name: (identifier) @name) @def.variable))
"""
_GO_IMPORTS = """
(import_spec name: (_)? @name path: (interpreted_string_literal (interpreted_string_literal_content) @module)) @stmt
"""

_RUST_DEFS = """
(function_item name: (_) @name) @def.function
(function_signature_item name: (_) @name) @def.function
(struct_item name: (_) @name) @def.struct
(union_item name: (_) @name) @def.struct
(enum_item name: (_) @name) @def.enum
(trait_item name: (_) @name) @def.interface
(type_item name: (_) @name) @def.type
(const_item name: (_) @name) @def.constant
(static_item name: (_) @name) @def.constant
(mod_item name: (_) @name) @def.module
(macro_definition name: (_) @name) @def.macro
"""
_RUST_IMPORTS = """
(use_declaration argument: (_) @module) @stmt
"""

_JAVA_DEFS = """
(class_declaration name: (_) @name) @def.class
(record_declaration name: (_) @name) @def.class
(interface_declaration name: (_) @name) @def.interface
(annotation_type_declaration name: (_) @name) @def.interface
(enum_declaration name: (_) @name) @def.enum
(method_declaration name: (_) @name) @def.method
(constructor_declaration name: (_) @name) @def.method
(field_declaration declarator: (variable_declarator name: (_) @name)) @def.field
"""
_JAVA_IMPORTS = """
(import_declaration (_) @module) @stmt
"""

# C and C++ bury a function's name in nested declarators (pointers,
# references, qualified names); `@name` captures the outer declarator and
# symbols.py digs the identifier out.
_C_DEFS = """
(function_definition declarator: (_) @name) @def.function
(declaration declarator: (function_declarator) @name) @def.function
(declaration declarator: (pointer_declarator declarator: (function_declarator)) @name) @def.function
(struct_specifier name: (_) @name body: (_)) @def.struct
(union_specifier name: (_) @name body: (_)) @def.struct
(enum_specifier name: (_) @name body: (_)) @def.enum
(type_definition declarator: (_) @name) @def.type
(preproc_def name: (_) @name) @def.macro
(preproc_function_def name: (_) @name) @def.macro
"""
_CPP_EXTRA_DEFS = """
(class_specifier name: (_) @name body: (_)) @def.class
(field_declaration declarator: (function_declarator) @name) @def.method
(namespace_definition name: (_) @name) @def.module
(alias_declaration name: (_) @name) @def.type
"""
_C_IMPORTS = """
(preproc_include path: (_) @module) @stmt
"""

_JS_CONTAINERS = frozenset({"class_declaration", "class_body", "class", "abstract_class_declaration", "interface_body"})

SPECS: dict[str, GrammarSpec] = {
    spec.name: spec
    for spec in (
        GrammarSpec(
            "python", "tree_sitter_python", "language", _PYTHON_DEFS, _PYTHON_IMPORTS, frozenset({"class_definition"}), max_depth=4
        ),
        GrammarSpec("javascript", "tree_sitter_javascript", "language", _JS_DEFS, _JS_IMPORTS, _JS_CONTAINERS),
        GrammarSpec(
            "typescript", "tree_sitter_typescript", "language_typescript", _JS_DEFS + _TS_EXTRA_DEFS, _JS_IMPORTS, _JS_CONTAINERS
        ),
        GrammarSpec("tsx", "tree_sitter_typescript", "language_tsx", _JS_DEFS + _TS_EXTRA_DEFS, _JS_IMPORTS, _JS_CONTAINERS),
        GrammarSpec("go", "tree_sitter_go", "language", _GO_DEFS, _GO_IMPORTS, frozenset({"interface_type"}), max_depth=4),
        GrammarSpec(
            "rust", "tree_sitter_rust", "language", _RUST_DEFS, _RUST_IMPORTS, frozenset({"impl_item", "trait_item"})
        ),
        GrammarSpec(
            "java",
            "tree_sitter_java",
            "language",
            _JAVA_DEFS,
            _JAVA_IMPORTS,
            frozenset({"class_body", "interface_body", "enum_body", "record_declaration"}),
        ),
        GrammarSpec("c", "tree_sitter_c", "language", _C_DEFS, _C_IMPORTS, frozenset(), max_depth=4),
        GrammarSpec(
            "cpp",
            "tree_sitter_cpp",
            "language",
            _C_DEFS + _CPP_EXTRA_DEFS,
            _C_IMPORTS,
            frozenset({"class_specifier", "struct_specifier", "field_declaration_list"}),
            max_depth=7,  # namespaces and templates nest classes deeply
        ),
    )
}


@dataclass(frozen=True)
class LoadedGrammar:
    spec: GrammarSpec
    ts_language: ts.Language
    # Definition patterns first, then import patterns: one pass over the tree finds both.
    query: ts.Query
    # Per query pattern: the definition's capture name and kind ("def.class", "class"),
    # or None for an import pattern; saves searching each match's captures.
    pattern_kinds: tuple[tuple[str, str] | None, ...]


_DEF_CAPTURE = re.compile(r"@(def\.(\w+))")


def _pattern_kinds(query: ts.Query, source: str) -> tuple[tuple[str, str] | None, ...]:
    kinds = []
    for i in range(query.pattern_count):
        found = _DEF_CAPTURE.search(source, query.start_byte_for_pattern(i), query.end_byte_for_pattern(i))
        kinds.append((found.group(1), found.group(2)) if found else None)
    return tuple(kinds)


_loaded: dict[str, LoadedGrammar] = {}
_load_lock = threading.Lock()


def load(name: str) -> LoadedGrammar:
    """Grammar and compiled queries for `name`, imported on first use."""
    loaded = _loaded.get(name)
    if loaded is not None:
        return loaded
    with _load_lock:
        if name not in _loaded:
            spec = SPECS[name]
            module = importlib.import_module(spec.module)
            ts_language = ts.Language(getattr(module, spec.entry)())
            source = spec.definitions + spec.imports
            query = ts.Query(ts_language, source)
            _loaded[name] = LoadedGrammar(spec, ts_language, query, _pattern_kinds(query, source))
        return _loaded[name]


_parsers = threading.local()


def parser_for(name: str) -> ts.Parser:
    """A parser for `name` owned by the calling thread (parsers are not thread-safe)."""
    cache = getattr(_parsers, "by_grammar", None)
    if cache is None:
        cache = _parsers.by_grammar = {}
    parser = cache.get(name)
    if parser is None:
        parser = cache[name] = ts.Parser(load(name).ts_language)
    return parser

