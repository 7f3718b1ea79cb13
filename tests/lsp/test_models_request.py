"""`tandem/models` and `tandem/doctor` over real LSP (what the editors' model pickers and doctor
commands ask), and a clear answer when llama-cpp-python is not installed. No model is loaded."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from lsp_session import lsp_session
from tandem_lsp.cli import doctor_command
from tandem_lsp.config import Settings
from tandem_lsp.models import registry
from tandem_lsp.models.backend import ModelError

from test_discovery_gguf_info import QWEN_FIM, vocab, write_tiny_gguf
from test_doctor_command import run_doctor


def plain(value: object) -> object:
    """The client hands custom answers back as named tuples: turn them back into JSON values."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def no_model(tmp_path: Path) -> dict:
    """Settings whose model is a missing file: the server's start-up preload fails at once, loads nothing."""
    return {"completionModel": {"path": str(tmp_path / "no-model.gguf")}}


async def request(client, method: str, params: object) -> dict:
    return plain(await asyncio.wait_for(client.protocol.send_request_async(method, params), 60))


@pytest.fixture()
def model_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    (folder / "coder").mkdir(parents=True)
    write_tiny_gguf(folder / "coder" / "qwen-fim-q4_k_m.gguf", tokens=vocab(*QWEN_FIM))
    write_tiny_gguf(folder / "plain.gguf", tokens=vocab(), chat_template=None)
    (folder / "broken.gguf").write_bytes(b"GGUF not really")
    (folder / "notes.txt").write_text("not a model")
    return folder


async def test_models_lists_the_ggufs_of_the_folders_asked_for(tmp_path: Path, model_folder: Path) -> None:
    async with lsp_session(no_model(tmp_path)) as (client, _):
        answer = await request(client, "tandem/models", {"dirs": [str(model_folder)], "includeSystem": False})
    rows = {row["name"]: row for row in answer["models"]}
    assert sorted(rows) == ["broken.gguf", "coder/qwen-fim-q4_k_m.gguf", "plain.gguf"]
    fim = rows["coder/qwen-fim-q4_k_m.gguf"]
    assert fim["source"] == "folder" and fim["path"] == str(model_folder / "coder" / "qwen-fim-q4_k_m.gguf")
    assert fim["hasFim"] is True and fim["fimFamily"] and fim["hasChatTemplate"] is True
    assert fim["quantization"] == "Q4_K_M" and fim["contextLength"] == 2048 and fim["fileSize"] > 0
    assert fim["error"] == ""
    assert rows["plain.gguf"]["hasFim"] is False and rows["plain.gguf"]["hasChatTemplate"] is False
    # A file that only looks like a GGUF is listed with the reason, not dropped silently.
    assert rows["broken.gguf"]["error"]


async def test_models_searches_the_usual_places(tmp_path: Path, model_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / ".cache/tandem/models").mkdir(parents=True)
    write_tiny_gguf(home / ".cache/tandem/models/own.gguf", tokens=vocab(*QWEN_FIM))
    # The server inherits this environment: its home and TANDEM_MODELS_DIR are ours.
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TANDEM_MODELS_DIR", str(model_folder / "coder"))
    for name in ("HF_HOME", "HF_HUB_CACHE", "OLLAMA_MODELS"):
        monkeypatch.delenv(name, raising=False)
    async with lsp_session(no_model(tmp_path)) as (client, _):
        answer = await request(client, "tandem/models", None)
    found = {(row["source"], row["name"]) for row in answer["models"]}
    assert ("folder", "qwen-fim-q4_k_m.gguf") in found and ("tandem", "own.gguf") in found
    assert not any(name == "plain.gguf" for _, name in found)  # only the folders named are searched


async def test_doctor_reports_on_the_settings_in_force(tmp_path: Path) -> None:
    missing = Path(no_model(tmp_path)["completionModel"]["path"])
    async with lsp_session(no_model(tmp_path)) as (client, _):
        answer = await request(client, "tandem/doctor", {})
    assert answer["ok"] is False
    file_check = next(c for c in answer["checks"] if c["name"] == "file" and "completion" in c["section"])
    assert file_check["status"] == "fail" and str(missing) in file_check["detail"]
    assert "tandem-lsp models" in file_check["fix"]
    assert not any(c["name"] == "probe" for c in answer["checks"])  # nothing is loaded in the server
    assert answer["report"].rstrip().endswith("warnings") and "fail  file" in answer["report"]


# -- without llama-cpp-python (an HTTP-only install) ---------------------------------------------


def test_a_gguf_without_llama_cpp_is_an_error_that_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                                          tmp_path: Path) -> None:
    model = write_tiny_gguf(tmp_path / "m.gguf", tokens=vocab())
    monkeypatch.setattr(registry, "local_models_available", lambda: False)
    settings = Settings().merged({"completionModel": {"path": str(model)}})
    key = registry.resolve_key(settings.completion_model)
    with pytest.raises(ModelError, match=r"llama-cpp-python is not installed.*'\./\[local\]'.*HTTP endpoint"):
        registry.load_backend(settings.completion_model, key)


def test_doctor_without_llama_cpp(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                  tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # `import llama_cpp` raises ImportError
    model = write_tiny_gguf(tmp_path / "m.gguf", tokens=vocab(*QWEN_FIM))
    # A GGUF to run in-process: a failure naming the extra; the file is still checked, not loaded.
    code, report = run_doctor(["--model", str(model)], capsys)
    runtime = report["checks"][0]
    assert code == 1 and runtime["status"] == "fail" and "[local]" in runtime["fix"]
    assert any(c["name"] == "metadata" and c["status"] == "ok" for c in report["checks"])
    assert not any(c["name"] == "probe" for c in report["checks"])
    # Every role over HTTP: llama.cpp is not needed, so its absence is only information.
    settings = Settings().merged({"completionModel": {"endpoint": "http://127.0.0.1:9/v1"}})
    assert not doctor_command.needs_local_runtime(settings)
    checks = doctor_command.check_runtime(needs_local=False)
    assert [c.status for c in checks] == ["info"] and "HTTP endpoints only" in checks[0].detail
