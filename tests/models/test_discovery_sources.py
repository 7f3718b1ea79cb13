"""Model discovery over fake HF / LM Studio / Ollama / tandem layouts, and `tandem-lsp models`."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from tandem_lsp.cli import models_command
from tandem_lsp.models.discovery import discover

from test_discovery_gguf_info import QWEN_FIM, vocab, write_tiny_gguf


@pytest.fixture()
def fake_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    # Hugging Face hub cache: snapshot files are symlinks into blobs/.
    repo = home / ".cache/huggingface/hub/models--Qwen--Qwen2.5-Coder-1.5B-Instruct-GGUF"
    (repo / "blobs").mkdir(parents=True)
    blob = write_tiny_gguf(repo / "blobs" / "abc123", tokens=vocab(*QWEN_FIM))
    snap = repo / "snapshots" / "rev1"
    snap.mkdir(parents=True)
    (snap / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf").symlink_to(blob)
    (snap / "README.md").write_text("not a model")
    # A second revision pointing at the same blob is listed once.
    (repo / "snapshots" / "rev2").mkdir()
    (repo / "snapshots" / "rev2" / "same.gguf").symlink_to(blob)
    # LM Studio: publisher/repo/file, with a split model (only shard 1 is listed).
    lms = home / ".lmstudio/models/lmstudio-community/Tiny-GGUF"
    lms.mkdir(parents=True)
    write_tiny_gguf(lms / "tiny-Q4_K_M.gguf", tokens=vocab())
    write_tiny_gguf(lms / "big-00001-of-00002.gguf", tokens=vocab())
    write_tiny_gguf(lms / "big-00002-of-00002.gguf", tokens=vocab())
    # Ollama: manifests name blobs by digest.
    ollama = home / ".ollama/models"
    (ollama / "blobs").mkdir(parents=True)
    write_tiny_gguf(ollama / "blobs" / "sha256-feedbeef", tokens=vocab("<think>"),
                    chat_template="{{ messages }}</think>")
    manifest = {
        "schemaVersion": 2,
        "layers": [
            {"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:feedbeef", "size": 1},
            {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:0000", "size": 1},
        ],
    }
    tag = ollama / "manifests/registry.ollama.ai/library/deepseek-r1/1.5b"
    tag.parent.mkdir(parents=True)
    tag.write_text(json.dumps(manifest))
    user = ollama / "manifests/registry.ollama.ai/someone/coder/latest"
    user.parent.mkdir(parents=True)
    user.write_text(json.dumps(manifest))
    broken = ollama / "manifests/registry.ollama.ai/library/broken/latest"
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json")
    missing = ollama / "manifests/registry.ollama.ai/library/gone/latest"
    missing.parent.mkdir(parents=True)
    missing.write_text(json.dumps({"layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:dead"}]}))
    # tandem's own cache.
    (home / ".cache/tandem/models").mkdir(parents=True)
    write_tiny_gguf(home / ".cache/tandem/models/own.gguf", tokens=vocab())
    return home


def by_source(models, source: str) -> list[str]:
    return sorted(m.name for m in models if m.source == source)


def test_every_source_is_found(fake_home: Path) -> None:
    models = discover(env={}, home=fake_home)
    assert by_source(models, "huggingface") == ["Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"]
    assert by_source(models, "lmstudio") == [
        "lmstudio-community/Tiny-GGUF/big-00001-of-00002.gguf",
        "lmstudio-community/Tiny-GGUF/tiny-Q4_K_M.gguf",
    ]
    # Both manifests point at one blob: the first name wins, the file appears once.
    ollama = [m for m in models if m.source == "ollama"]
    assert [m.name for m in ollama] == ["deepseek-r1:1.5b"]
    assert ollama[0].path.name == "sha256-feedbeef"
    assert by_source(models, "tandem") == ["own.gguf"]
    assert len({m.path.resolve() for m in models}) == len(models)


def test_env_overrides_and_configured_folders(fake_home: Path, tmp_path: Path) -> None:
    hf_home = tmp_path / "hf"
    (hf_home / "hub").mkdir(parents=True)
    folder = tmp_path / "mine"
    folder.mkdir()
    write_tiny_gguf(folder / "a.gguf", tokens=vocab())
    other = tmp_path / "other"
    (other / "sub").mkdir(parents=True)
    write_tiny_gguf(other / "sub" / "b.gguf", tokens=vocab())
    env = {"HF_HOME": str(hf_home), "TANDEM_MODELS_DIR": str(other)}
    models = discover([folder], env=env, home=fake_home)
    assert by_source(models, "huggingface") == []  # HF_HOME points at an empty cache
    assert by_source(models, "folder") == ["a.gguf", "sub/b.gguf"]
    only = discover([folder], env=env, home=fake_home, include_system=False)
    assert {m.source for m in only} == {"folder"}


def test_ollama_models_env(fake_home: Path) -> None:
    moved = fake_home / "elsewhere"
    os.rename(fake_home / ".ollama/models", moved)
    assert by_source(discover(env={}, home=fake_home), "ollama") == []
    assert by_source(discover(env={"OLLAMA_MODELS": str(moved)}, home=fake_home), "ollama") == ["deepseek-r1:1.5b"]


def test_missing_places_are_quietly_empty(tmp_path: Path) -> None:
    models = discover([tmp_path / "no-such-dir"], env={"HF_HOME": str(tmp_path / "nohf")}, home=tmp_path / "empty")
    assert {m.source for m in models} <= {"embedded", "ollama"}  # system-wide store, if this machine has one


def run_models(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    models_command.add_parser(parser.add_subparsers())
    code = models_command.run(parser.parse_args(["models", *argv]))
    return code, capsys.readouterr().out


def test_models_command_json_and_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    write_tiny_gguf(folder / "coder.gguf", tokens=vocab(*QWEN_FIM))
    broken = write_tiny_gguf(folder / "broken.gguf", tokens=vocab())
    broken.write_bytes(broken.read_bytes()[:40])
    code, out = run_models(["--dir", str(folder), "--only-dirs", "--json"], capsys)
    assert code == 0
    rows = {row["name"]: row for row in json.loads(out)}
    assert set(rows) == {"coder.gguf", "broken.gguf"}
    assert rows["coder.gguf"]["fim_family"] == "qwen2.5-coder"
    assert rows["coder.gguf"]["quantization"] == "Q4_K_M"
    assert rows["coder.gguf"]["model_name"] == "tiny test model"
    assert rows["coder.gguf"]["error"] == ""
    assert "truncated" in rows["broken.gguf"]["error"]

    code, out = run_models(["--dir", str(folder), "--only-dirs"], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:5] == ["NAME", "SOURCE", "ARCH", "SIZE", "QUANT"]
    coder = next(line for line in lines if line.startswith("coder.gguf"))
    assert "qwen2.5-coder" in coder and "Q4_K_M" in coder and "2048" in coder
    assert "truncated" in next(line for line in lines if line.startswith("broken.gguf"))


def test_models_command_with_nothing_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_models(["--dir", str(tmp_path), "--only-dirs"], capsys)
    assert code == 0 and "no GGUF models found" in out
