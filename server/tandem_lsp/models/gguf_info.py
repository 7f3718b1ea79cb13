"""Read what a GGUF file says about its model, without loading it.

Used by `tandem-lsp models` and `tandem-lsp doctor`: architecture, size,
quantisation, context length, layer shape (for a memory estimate), and
whether the vocabulary has fill-in-the-middle tokens or the chat template
speaks of reasoning.

The parser walks the header through a read-only memory map and keeps only
the keys it needs. gguf.GGUFReader would do the same job but builds an array
object for every one of ~150k vocabulary entries and merges, which costs
seconds per file; listing a model folder must stay quick. The format's
constants (value types, quantisation block sizes, file types) come from the
`gguf` package.
"""

from __future__ import annotations

import mmap
import os
import re
import struct
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gguf import GGML_QUANT_SIZES, GGUF_DEFAULT_ALIGNMENT, GGMLQuantizationType, GGUFValueType, LlamaFileType

from tandem_lsp.models.backend import FimTemplate, ModelError
from tandem_lsp.models.fim import detect_fim_template

_SCALAR_FORMATS = {
    GGUFValueType.UINT8: "B", GGUFValueType.INT8: "b", GGUFValueType.UINT16: "H", GGUFValueType.INT16: "h",
    GGUFValueType.UINT32: "I", GGUFValueType.INT32: "i", GGUFValueType.FLOAT32: "f", GGUFValueType.BOOL: "?",
    GGUFValueType.UINT64: "Q", GGUFValueType.INT64: "q", GGUFValueType.FLOAT64: "d",
}
# Arrays whose items we need; every other array is skipped without decoding.
_KEPT_ARRAYS = {"tokenizer.ggml.tokens"}
# Metadata names for the FIM token ids (current keys first, then the older ones).
_FIM_ID_KEYS = {
    "prefix": ("tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.prefix_token_id"),
    "suffix": ("tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.suffix_token_id"),
    "middle": ("tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.middle_token_id"),
    "repo_name": ("tokenizer.ggml.fim_rep_token_id",),
    "file_sep": ("tokenizer.ggml.fim_sep_token_id",),
}
# A chat template that handles thinking blocks marks a reasoning model.
_REASONING_TEMPLATE = re.compile(r"</?think>|reasoning_content|enable_thinking", re.IGNORECASE)
# Sanity limits: a corrupt count must give an error, not a huge allocation.
_MAX_ENTRIES = 1 << 24


class GGUFInfoError(ModelError):
    """The file is not a readable GGUF; the message says why."""


@dataclass
class GGUFInfo:
    path: str
    file_size: int
    version: int
    architecture: str
    name: str
    size_label: str
    # Quantisation label such as "Q4_K_M" (from general.file_type, else the most common tensor type).
    quantization: str
    parameters: int
    context_length: int
    n_layer: int
    n_head: int
    n_head_kv: int
    embedding_length: int
    head_dim: int
    fim_family: str
    fim_tokens: dict[str, str]
    has_chat_template: bool
    reasoning: bool
    # Everything read that is a plain value (strings, numbers, small arrays).
    metadata: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def has_fim(self) -> bool:
        return bool(self.fim_tokens)

    @property
    def chat_template(self) -> str:
        return str(self.metadata.get("tokenizer.chat_template", ""))

    def kv_cache_bytes(self, context: int, bytes_per_value: int = 2) -> int:
        """llama.cpp's default f16 K and V cache for `context` tokens."""
        return 2 * self.n_layer * self.n_head_kv * self.head_dim * context * bytes_per_value

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly view without the raw metadata."""
        out = asdict(self)
        out.pop("metadata")
        out["has_fim"] = self.has_fim
        return out


class _Cursor:
    """Bounds-checked little/big-endian reads over a memory map."""

    def __init__(self, buf: mmap.mmap | bytes, endian: str) -> None:
        self.buf = buf
        self.size = len(buf)
        self.pos = 0
        self.endian = endian

    def need(self, n: int) -> None:
        if n < 0 or self.pos + n > self.size:
            raise GGUFInfoError("truncated")

    def scalar(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        self.need(size)
        (value,) = struct.unpack_from(self.endian + fmt, self.buf, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        length = self.scalar("Q")
        self.need(length)
        raw = self.buf[self.pos : self.pos + length]
        self.pos += length
        return bytes(raw).decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        length = self.scalar("Q")
        self.need(length)
        self.pos += length

    def value(self, vtype: int, keep: bool) -> Any:
        if vtype == GGUFValueType.STRING:
            return self.string() if keep else self.skip_string()
        if vtype == GGUFValueType.ARRAY:
            item_type = self.scalar("I")
            count = self.scalar("Q")
            if count > _MAX_ENTRIES:
                raise GGUFInfoError(f"implausible array length {count}")
            if item_type in _SCALAR_FORMATS and not keep:
                width = struct.calcsize(_SCALAR_FORMATS[GGUFValueType(item_type)])
                self.need(width * count)
                self.pos += width * count
                return None
            items = [self.value(item_type, keep) for _ in range(count)]
            return items if keep else None
        try:
            fmt = _SCALAR_FORMATS[GGUFValueType(vtype)]
        except (ValueError, KeyError):
            raise GGUFInfoError(f"unknown metadata value type {vtype}") from None
        return self.scalar(fmt)


def read_gguf_info(path: str | os.PathLike) -> GGUFInfo:
    """Read a GGUF header. Raises GGUFInfoError (a ModelError) for anything unreadable."""
    file = Path(path).expanduser()
    try:
        with file.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < 4:
                raise GGUFInfoError(f"not a GGUF file (only {size} bytes): {file}")
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse(buf, file, size)
    except GGUFInfoError as exc:
        message = str(exc)
        if message == "truncated":
            message = f"GGUF file is truncated or corrupt (header runs past the end): {file}"
        elif str(file) not in message:
            message = f"{message}: {file}"
        raise GGUFInfoError(message) from None
    except (OSError, ValueError) as exc:
        raise GGUFInfoError(f"cannot read {file}: {exc}") from None


def _parse(buf: mmap.mmap, file: Path, size: int) -> GGUFInfo:
    if buf[:4] != b"GGUF":
        raise GGUFInfoError("not a GGUF file (bad magic)")
    endian = "<"
    cur = _Cursor(buf, endian)
    cur.pos = 4
    version = cur.scalar("I")
    if version & 0xFFFF == 0:  # written on a big-endian machine
        cur.endian = endian = ">"
        cur.pos = 4
        version = cur.scalar("I")
    if version < 2:
        raise GGUFInfoError(f"GGUF version {version} is too old (need 2 or later)")
    tensor_count = cur.scalar("Q")
    kv_count = cur.scalar("Q")
    if tensor_count > _MAX_ENTRIES or kv_count > _MAX_ENTRIES:
        raise GGUFInfoError("implausible header counts")

    meta: dict[str, Any] = {}
    for _ in range(kv_count):
        key = cur.string()
        vtype = cur.scalar("I")
        keep = vtype != GGUFValueType.ARRAY or key in _KEPT_ARRAYS
        value = cur.value(vtype, keep)
        if keep:
            meta[key] = value

    tensor_types: Counter[int] = Counter()
    parameters = 0
    data_end = 0
    for _ in range(tensor_count):
        cur.skip_string()
        n_dims = cur.scalar("I")
        if n_dims > 8:
            raise GGUFInfoError(f"implausible tensor rank {n_dims}")
        elements = 1
        for _ in range(n_dims):
            elements *= cur.scalar("Q")
        ttype = cur.scalar("I")
        offset = cur.scalar("Q")
        parameters += elements
        if n_dims >= 2:
            tensor_types[ttype] += elements
        data_end = max(data_end, offset + _tensor_bytes(ttype, elements))
    alignment = int(meta.get("general.alignment", GGUF_DEFAULT_ALIGNMENT) or GGUF_DEFAULT_ALIGNMENT)
    data_start = -(-cur.pos // alignment) * alignment
    if tensor_count and data_start + data_end > size:
        missing = data_start + data_end - size
        raise GGUFInfoError(f"GGUF file is truncated: {missing} bytes of tensor data missing (incomplete download?)")
    return _build_info(file, size, version, meta, parameters, tensor_types)


def _tensor_bytes(ttype: int, elements: int) -> int:
    try:
        block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(ttype)]
    except (ValueError, KeyError):
        return 0  # a type newer than our gguf package: cannot size it, do not fail
    return elements // block * type_size


def _quant_label(meta: dict[str, Any], tensor_types: Counter[int]) -> str:
    file_type = meta.get("general.file_type")
    if isinstance(file_type, int):
        try:
            name = LlamaFileType(file_type).name
            return name.removeprefix("MOSTLY_").removeprefix("ALL_")
        except ValueError:
            pass
    if tensor_types:
        ttype = tensor_types.most_common(1)[0][0]
        try:
            return GGMLQuantizationType(ttype).name
        except ValueError:
            return f"type{ttype}"
    return "?"


def _fim(meta: dict[str, Any]) -> FimTemplate:
    tokens = meta.get("tokenizer.ggml.tokens") or []
    ids = {}
    for role, keys in _FIM_ID_KEYS.items():
        ids[role] = next((meta[k] for k in keys if isinstance(meta.get(k), int) and 0 <= meta[k] < len(tokens)), None)
    index: dict[str, int] = {}
    for i, text in enumerate(tokens):
        index.setdefault(text, i)
    return detect_fim_template(ids, lambda i: tokens[i], index.get)


def _build_info(file: Path, size: int, version: int, meta: dict[str, Any], parameters: int,
                tensor_types: Counter[int]) -> GGUFInfo:
    arch = str(meta.get("general.architecture", ""))

    def arch_int(key: str, default: int = 0) -> int:
        value = meta.get(f"{arch}.{key}", default)
        # Some models store per-layer head counts as an array; take the largest.
        if isinstance(value, list):
            value = max((v for v in value if isinstance(v, int)), default=default)
        return int(value) if isinstance(value, (int, float)) else default

    n_head = arch_int("attention.head_count")
    embedding = arch_int("embedding_length")
    head_dim = arch_int("attention.key_length") or (embedding // n_head if n_head else 0)
    template = meta.get("tokenizer.chat_template")
    fim = _fim(meta)
    fim_tokens = {
        role: token.text
        for role in ("prefix", "suffix", "middle", "repo_name", "file_sep")
        if (token := getattr(fim, role)) is not None
    } if fim.has_fim else {}
    # The token list is large; the summary keeps its length only.
    vocab = meta.pop("tokenizer.ggml.tokens", None)
    if vocab is not None:
        meta["tokenizer.ggml.tokens.count"] = len(vocab)
    return GGUFInfo(
        path=str(file),
        file_size=size,
        version=version,
        architecture=arch or "?",
        name=str(meta.get("general.name", "") or file.stem),
        size_label=str(meta.get("general.size_label", "")),
        quantization=_quant_label(meta, tensor_types),
        parameters=parameters,
        context_length=arch_int("context_length"),
        n_layer=arch_int("block_count"),
        n_head=n_head,
        n_head_kv=arch_int("attention.head_count_kv") or n_head,
        embedding_length=embedding,
        head_dim=head_dim,
        fim_family=fim.family if fim.has_fim else "",
        fim_tokens=fim_tokens,
        has_chat_template=bool(template),
        reasoning=bool(isinstance(template, str) and _REASONING_TEMPLATE.search(template)),
        metadata=meta,
    )
