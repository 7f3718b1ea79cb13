"""A file's LSP language id, the tree-sitter grammar of a language, its line-comment marker."""

from __future__ import annotations

import pytest

from tandem_lsp import languages
from tandem_lsp.context.grammars import SPECS
from tandem_lsp.languages import grammar_for, grammar_for_path, language_for_path, line_comment


@pytest.mark.parametrize(
    ("path", "language", "grammar"),
    [
        ("/w/a.py", "python", "python"),
        ("/w/App.jsx", "javascriptreact", "javascript"),
        ("/w/App.tsx", "typescriptreact", "tsx"),
        ("/w/mod.mts", "typescript", "typescript"),
        ("/w/list.h", "c", "c"),
        ("/w/list.HPP", "cpp", "cpp"),
        ("/w/run.sh", "shellscript", None),
        ("/w/Makefile", "", None),
    ],
)
def test_language_and_grammar_of_a_path(path: str, language: str, grammar: str | None) -> None:
    assert language_for_path(path) == language
    assert grammar_for_path(path) == grammar
    assert grammar_for(language) == grammar


def test_grammar_for_a_language_id_else_for_the_path() -> None:
    # Spellings people type for --language, grammar names included.
    assert [grammar_for(name) for name in ("py", "c++", "tsx")] == ["python", "cpp", "tsx"]
    assert grammar_for("plaintext", "/w/main.go") == "go"
    assert grammar_for("ruby", "/w/a.rb") is None
    assert grammar_for("") is None


def test_every_grammar_a_language_maps_to_is_one_the_index_has() -> None:
    assert set(languages._GRAMMARS.values()) == set(SPECS)


def test_line_comment_markers() -> None:
    assert [line_comment(language) for language in ("python", "Python", "shellscript", "lua", "typescriptreact", "")] == [
        "#",
        "#",
        "#",
        "--",
        "//",
        "//",
    ]
