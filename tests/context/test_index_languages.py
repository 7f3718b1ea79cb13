"""Definitions and imports extracted by tree-sitter, one case per grammar."""

from __future__ import annotations

import pytest

from tandem_lsp.context.grammars import SPECS
from tandem_lsp.context.symbols import doc_of, make_chunks, parse_source
from tandem_lsp.languages import grammar_for_path

CASES = {
    "python": (
        "a.py",
        '''import os.path, json
from .util import helper as h, other
from pkg.mod import (Foo, Bar)

LIMIT = 10

@decorator
def top(a, b=1,
        c=2) -> int:
    """Add things.

    More."""
    def local():
        pass
    return a + b

class Shape(Base):
    """A shape."""
    def area(self):
        return 0
''',
        {("LIMIT", "variable"), ("top", "function"), ("Shape", "class"), ("area", "method")},
        [("os.path", ()), ("json", ()), (".util", ("helper", "other")), ("pkg.mod", ("Foo", "Bar"))],
    ),
    "javascript": (
        "a.js",
        """import React, { useState as us } from 'react';
import * as path from "./path.js";
/** Renders the app. */
export function App(props) { return null; }
function* gen() {}
class Store { save(item) {} }
const makeId = () => 1;
export const VERSION = "1";
""",
        {("App", "function"), ("gen", "function"), ("Store", "class"), ("save", "method"), ("makeId", "function"), ("VERSION", "constant")},
        [("react", ("React", "useState")), ("./path.js", ("path",))],
    ),
    "typescript": (
        "a.ts",
        """import { Thing } from "./thing";
export interface Point { x: number; norm(): number }
export type Id = string;
enum Color { Red }
abstract class Base { abstract run(): void; }
export class Impl<T> extends Base { run(): void {} }
export function make(p: Point): Id { return ""; }
""",
        {("Point", "interface"), ("norm", "method"), ("Id", "type"), ("Color", "enum"), ("Base", "class"), ("run", "method"), ("Impl", "class"), ("make", "function")},
        [("./thing", ("Thing",))],
    ),
    "tsx": (
        "a.tsx",
        """import { h } from "preact";
export const Button = (p: { label: string }) => <button>{p.label}</button>;
export function List(): JSX.Element { return <ul/>; }
""",
        {("Button", "function"), ("List", "function")},
        [("preact", ("h",))],
    ),
    "go": (
        "a.go",
        """package shapes

import (
\tf "fmt"
\t"os/exec"
)

// Circle is round.
type Circle struct{ R float64 }
type Shape interface{ Area() float64 }
type Meters float64

func (c *Circle) Area() float64 { return 3 * c.R }
func New(r float64) *Circle { return &Circle{r} }

const Pi = 3.14
""",
        {("Circle", "struct"), ("Shape", "interface"), ("Area", "method"), ("Meters", "type"), ("New", "function"), ("Pi", "constant")},
        [("fmt", ("f",)), ("os/exec", ("exec",))],
    ),
    "rust": (
        "a.rs",
        """use std::collections::{HashMap, HashSet as Set};
use crate::util::helper;
/// A point.
pub struct Point { x: i32 }
pub enum Dir { Up }
pub trait Area { fn area(&self) -> f64; }
impl Point { pub fn new(x: i32) -> Self { Point { x } } }
pub fn free(x: i32) -> i32 { x }
const MAX: i32 = 3;
type Alias = i32;
mod inner {}
macro_rules! square { ($x:expr) => { $x * $x } }
""",
        {("Point", "struct"), ("Dir", "enum"), ("Area", "interface"), ("area", "method"), ("new", "method"), ("free", "function"), ("MAX", "constant"), ("Alias", "type"), ("inner", "module"), ("square", "macro")},
        [("std::collections::{HashMap, HashSet as Set}", ("HashMap", "HashSet", "Set")), ("crate::util::helper", ("helper",))],
    ),
    "java": (
        "Shop.java",
        """package shop;
import java.util.List;
import java.util.*;
/** A shop. */
public class Shop {
    static final int MAX = 3;
    Shop() {}
    public List<String> items(int n) { return null; }
    interface Listener { void changed(); }
    enum Kind { A }
}
record Pair(int a, int b) {}
""",
        {("Shop", "class"), ("MAX", "field"), ("items", "method"), ("Listener", "interface"), ("Kind", "enum"), ("Pair", "class")},
        [("java.util.List", ("List",)), ("java.util", ())],
    ),
    "c": (
        "a.c",
        """#include <stdio.h>
#include "util.h"
#define MAX 3
#define SQ(x) ((x) * (x))
struct point { int x; };
typedef struct point point_t;
enum color { RED };
int *make(int n) { return 0; }
static int add(int a, int b) { return a + b; }
int proto(int);
""",
        {("MAX", "macro"), ("SQ", "macro"), ("point", "struct"), ("point_t", "type"), ("color", "enum"), ("make", "function"), ("add", "function"), ("proto", "function")},
        [("stdio.h", ()), ("util.h", ())],
    ),
    "cpp": (
        "a.cpp",
        """#include <vector>
#include "widget.hpp"
namespace ui {
class Widget : public Base {
 public:
  void draw(int);
  int size() const { return 1; }
};
}
int* ui::Widget::make(int x) const { return 0; }
template <class T> T ident(T x) { return x; }
using Alias = int;
""",
        {("ui", "module"), ("Widget", "class"), ("draw", "method"), ("size", "method"), ("make", "function"), ("ident", "function"), ("Alias", "type")},
        [("vector", ()), ("widget.hpp", ())],
    ),
}


def test_every_grammar_has_a_case() -> None:
    assert set(CASES) == set(SPECS)


@pytest.mark.parametrize("grammar", sorted(CASES))
def test_definitions_and_imports(grammar: str) -> None:
    name, source, expected, imports = CASES[grammar]
    assert grammar_for_path(f"/w/{name}") == grammar
    symbols = parse_source(f"/w/{name}", source.encode(), grammar)
    found = {(d.name, d.kind) for d in symbols.definitions}
    assert expected <= found, f"missing {expected - found}"
    assert [(i.module, i.names) for i in symbols.imports] == imports
    for d in symbols.definitions:
        assert 0 <= d.start_line <= d.end_line < source.count("\n") + 1
        assert d.name in d.signature or d.kind == "macro" or grammar in ("c", "cpp")
        assert d.path == f"/w/{name}"


def test_python_details() -> None:
    _, source, _, _ = CASES["python"]
    by_name = {d.name: d for d in parse_source("/w/a.py", source.encode(), "python").definitions}
    top = by_name["top"]
    # Decorators belong to the range; the signature is the whole header, the doc its first line.
    assert (top.start_line, top.end_line) == (6, 14)
    assert top.signature == "def top(a, b=1,\n        c=2) -> int:"
    lines = source.split("\n")
    assert doc_of(top, lines, "python") == "Add things."
    assert doc_of(by_name["Shape"], lines, "python") == "A shape."
    assert "local" not in by_name  # locals of function bodies stay out


def test_a_docstring_keeps_the_first_letter_of_its_first_word() -> None:
    source = 'def f():\n    """Returns one."""\n\n\ndef g():\n    r\'Builds two.\'\n\n\ndef h():\n    """\n    Updates three.\n    """\n'
    docs = {d.name: doc_of(d, source.split("\n"), "python") for d in parse_source("/w/a.py", source.encode(), "python").definitions}
    assert docs == {"f": "Returns one.", "g": "Builds two.", "h": "Updates three."}


def test_comment_docs_and_wrapped_signatures() -> None:
    go = {d.name: d for d in parse_source("/w/a.go", CASES["go"][1].encode(), "go").definitions}
    assert doc_of(go["Circle"], CASES["go"][1].split("\n"), "go") == "Circle is round."
    assert go["Circle"].signature == "type Circle struct{ R float64 }"
    js = {d.name: d for d in parse_source("/w/a.js", CASES["javascript"][1].encode(), "javascript").definitions}
    assert doc_of(js["App"], CASES["javascript"][1].split("\n"), "javascript") == "Renders the app."
    assert js["App"].signature == "export function App(props)"
    rust = {d.name: d for d in parse_source("/w/a.rs", CASES["rust"][1].encode(), "rust").definitions}
    assert rust["free"].signature == "pub fn free(x: i32) -> i32"
    c = {d.name: d for d in parse_source("/w/a.c", CASES["c"][1].encode(), "c").definitions}
    assert c["MAX"].end_line == c["MAX"].start_line  # a #define ends on its own line


def test_broken_source_still_yields_what_parses() -> None:
    source = b"def good():\n    return 1\n\ndef broken(:\n    pass\n\nclass Fine:\n    pass\n"
    names = {d.name for d in parse_source("/w/b.py", source, "python").definitions}
    assert {"good", "Fine"} <= names


def test_chunks_cover_the_file_and_cut_at_definitions() -> None:
    boundaries = [0, 12, 25, 70]
    chunks = make_chunks(100, boundaries)
    assert chunks[0][0] == 0 and chunks[-1][1] == 100
    assert all(a < b <= a + 30 and b == c for (a, b), (c, _) in zip(chunks, chunks[1:]))
    assert (0, 25) in chunks  # cut at the definition starting on line 25, not mid-way


def test_docs_are_read_from_comment_blocks_not_from_attributes_or_directives() -> None:
    rust = "/// Adds one.\n#[inline]\npub fn inc(x: i32) -> i32 { x + 1 }\n\n#[derive(Debug)]\nstruct Point { x: i32 }\n"
    by_name = {d.name: d for d in parse_source("/w/a.rs", rust.encode(), "rust").definitions}
    lines = rust.split("\n")
    assert doc_of(by_name["Point"], lines, "rust") == ""  # an attribute is not a comment
    c = "#include <stdio.h>\nint main(void) { return 0; }\n\n/**\n * Frees the list.\n */\nvoid release(void) {}\n"
    by_name = {d.name: d for d in parse_source("/w/a.c", c.encode(), "c").definitions}
    lines = c.split("\n")
    assert doc_of(by_name["main"], lines, "c") == ""  # nor is a directive
    assert doc_of(by_name["release"], lines, "c") == "Frees the list."
    py = "# Shared helper.\ndef shared():\n    return 1\n\n\ndef empty():\n    ''''''\n"
    by_name = {d.name: d for d in parse_source("/w/a.py", py.encode(), "python").definitions}
    assert doc_of(by_name["shared"], py.split("\n"), "python") == "Shared helper."
    assert doc_of(by_name["empty"], py.split("\n"), "python") == ""
