"""Work out a model's fill-in-the-middle layout from its vocabulary.

llama.cpp reads the FIM control tokens from the GGUF (`llama_vocab_fim_*`);
we name the family by those tokens' text, never by the file name. A model
without them completes from the prefix only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from tandem_lsp.models.backend import PREFIX_ONLY, FimTemplate, SpecialToken


@dataclass(frozen=True)
class FimFamily:
    name: str
    prefix: str
    suffix: str
    middle: str
    order: str = "psm"
    repo_name: str = ""
    file_sep: str = ""


KNOWN_FAMILIES = (
    FimFamily("qwen2.5-coder", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "psm", "<|repo_name|>", "<|file_sep|>"),
    FimFamily("starcoder", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "psm", "<repo_name>", "<file_sep>"),
    FimFamily("codellama", "<PRE>", "<SUF>", "<MID>"),
    FimFamily("deepseek-coder", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),
    # Codestral puts the suffix first ([SUFFIX] … [PREFIX] …).
    FimFamily("codestral", "[PREFIX]", "[SUFFIX]", "[MIDDLE]", "spm"),
)

# Aliases users may type in `fimFamily` for HTTP models.
_ALIASES = {"qwen": "qwen2.5-coder", "starcoder2": "starcoder", "deepseek": "deepseek-coder", "mistral": "codestral"}


def _normalise(text: str) -> str:
    # SentencePiece vocabularies mark a leading space with U+2581 ("▁<PRE>").
    return text.replace("\u2581", " ").strip()


def family_by_prefix_token(text: str) -> FimFamily | None:
    wanted = _normalise(text)
    return next((f for f in KNOWN_FAMILIES if f.prefix == wanted), None)


def family_by_name(name: str) -> FimFamily | None:
    name = _ALIASES.get(name.lower(), name.lower())
    return next((f for f in KNOWN_FAMILIES if f.name == name), None)


def detect_fim_template(
    ids: dict[str, int | None],
    token_text: Callable[[int], str],
    lookup: Callable[[str], int | None] | None = None,
) -> FimTemplate:
    """Build the template from FIM token ids (keys: prefix, suffix, middle, repo_name, file_sep).

    `lookup` maps a token's text to its id; it finds the tokens of known
    families when the GGUF metadata does not name them.
    """
    found = {key: value for key, value in ids.items() if value is not None and value >= 0}
    if not all(key in found for key in ("prefix", "suffix", "middle")) and lookup is not None:
        for family in KNOWN_FAMILIES:
            candidate = {key: lookup(getattr(family, key)) for key in ("prefix", "suffix", "middle", "repo_name", "file_sep") if getattr(family, key)}
            if all(candidate.get(key) is not None for key in ("prefix", "suffix", "middle")):
                found = {k: v for k, v in candidate.items() if v is not None}
                break
    if not all(key in found for key in ("prefix", "suffix", "middle")):
        return PREFIX_ONLY

    family = family_by_prefix_token(token_text(found["prefix"]))
    # Repo-level tokens: from llama.cpp when it knows them, else by the family's names.
    if family is not None and lookup is not None:
        for key in ("repo_name", "file_sep"):
            if key not in found and getattr(family, key):
                token = lookup(getattr(family, key))
                if token is not None:
                    found[key] = token

    def special(key: str) -> SpecialToken | None:
        return SpecialToken(found[key], token_text(found[key])) if key in found else None

    return FimTemplate(
        order="spm" if family is not None and family.order == "spm" else "psm",
        prefix=special("prefix"),
        suffix=special("suffix"),
        middle=special("middle"),
        repo_name=special("repo_name"),
        file_sep=special("file_sep"),
        family=family.name if family else "fim",
    )


def template_for_family(name: str) -> FimTemplate:
    """A template known only by token text (for HTTP models whose vocabulary we cannot read)."""
    family = family_by_name(name)
    if family is None:
        return PREFIX_ONLY

    def special(text: str) -> SpecialToken | None:
        return SpecialToken(-1, text) if text else None

    return FimTemplate(
        order="spm" if family.order == "spm" else "psm",
        prefix=special(family.prefix),
        suffix=special(family.suffix),
        middle=special(family.middle),
        repo_name=special(family.repo_name),
        file_sep=special(family.file_sep),
        family=family.name,
    )
