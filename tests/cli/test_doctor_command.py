"""`tandem-lsp doctor` on the real SmolLM2, on broken and tiny GGUFs, endpoints and a workspace."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import llama_cpp
import pytest

from tandem_lsp.cli import doctor_command
from tandem_lsp.models.gguf_info import read_gguf_info

from test_discovery_gguf_info import QWEN_FIM, vocab, write_tiny_gguf
from test_http_backend import free_port, llama_server  # noqa: F401  (module-scoped server fixture)


def run_doctor(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    parser = argparse.ArgumentParser()
    doctor_command.add_parser(parser.add_subparsers())
    code = doctor_command.run(parser.parse_args(["doctor", *argv, "--json"]))
    return code, json.loads(capsys.readouterr().out)


def find(report: dict, name: str, section: str = "") -> dict:
    matches = [c for c in report["checks"] if c["name"] == name and section in c["section"]]
    assert matches, f"no check {name!r} in {section!r}: {report['checks']}"
    return matches[0]


def test_default_model_passes_with_a_timed_probe(small_model: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tandem_lsp", "doctor", "--json"], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    assert find(report, "file", "completion")["detail"].startswith(str(small_model))
    assert "embedded default" in find(report, "file", "completion")["section"]
    # SmolLM2 has no FIM tokens: a warning with a way out, not a failure.
    fim = find(report, "fim", "completion")
    assert fim["status"] == "warn" and "get_models.py" in fim["fix"]
    assert find(report, "chat template", "completion")["status"] == "ok"
    probe = find(report, "probe", "completion")
    assert probe["status"] == "ok" and "first token" in probe["detail"] and "warm" in probe["detail"]
    assert find(report, "shared", "review")["detail"] == "same model as the completion role"
    assert find(report, "gpu offload")["status"] in {"ok", "info", "warn"}


def test_text_output_lists_fixes(small_model: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tandem_lsp", "doctor", "--no-probe", "--model", "/nowhere/x.gguf"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "fail  file" in proc.stdout and "model file not found: /nowhere/x.gguf" in proc.stdout
    assert "fix: check completionModel.path" in proc.stdout
    assert proc.stdout.rstrip().endswith("warnings")


def test_missing_and_truncated_models_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cut = write_tiny_gguf(tmp_path / "cut.gguf", tokens=vocab())
    cut.write_bytes(cut.read_bytes()[:-50])
    code, report = run_doctor(["--no-probe", "--model", str(cut), "--reasoning-model", str(tmp_path / "none.gguf")], capsys)
    assert code == 1 and report["ok"] is False
    truncated = find(report, "file", "completion")
    assert truncated["status"] == "fail" and "truncated" in truncated["detail"]
    assert "download it again" in truncated["fix"]
    missing = find(report, "file", "reasoning")
    assert missing["status"] == "fail" and "not found" in missing["detail"] and "--reasoning-model" in missing["fix"]


def test_fim_model_metadata_and_context_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = write_tiny_gguf(tmp_path / "coder.gguf", tokens=vocab(*QWEN_FIM), context_length=2048)
    code, report = run_doctor(["--no-probe", "--model", str(model), "--ctx", "8192"], capsys)
    assert code == 0  # warnings do not fail the doctor
    assert find(report, "fim", "completion")["status"] == "ok"
    assert "qwen2.5-coder" in find(report, "fim", "completion")["detail"]
    assert "Q4_K_M" in find(report, "metadata", "completion")["detail"]
    context = find(report, "context", "completion")
    assert context["status"] == "warn" and "2048" in context["fix"]
    assert "KV cache" in find(report, "memory", "completion")["detail"]


def test_memory_estimate_follows_the_layer_shape(small_model: Path) -> None:
    info = read_gguf_info(small_model)
    estimate = doctor_command.estimate_memory(info, 4096)
    # SmolLM2-135M: 30 layers, 3 KV heads of 64 dims, f16 K and V.
    assert estimate.kv_cache == 2 * 30 * 3 * 64 * 4096 * 2
    assert estimate.weights == small_model.stat().st_size
    assert doctor_command.estimate_memory(info, 8192).kv_cache == 2 * estimate.kv_cache
    assert estimate.total > estimate.weights + estimate.kv_cache


def test_cpu_build_on_a_gpu_machine_says_how_to_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: False)
    monkeypatch.setattr(doctor_command, "_gpu_hardware", lambda: "cuda")
    check = next(c for c in doctor_command.check_runtime() if c.name == "gpu offload")
    assert check.status == "warn"
    assert check.fix.endswith('CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-cache-dir llama-cpp-python')
    monkeypatch.setattr(doctor_command, "_gpu_hardware", lambda: "metal")
    check = next(c for c in doctor_command.check_runtime() if c.name == "gpu offload")
    assert "-DGGML_METAL=on" in check.fix


def test_workspace_index_status(tmp_path: Path, capsys: pytest.CaptureFixture[str], small_model: Path) -> None:
    (tmp_path / "app.py").write_text("def handler(event):\n    return event\n\n\nclass Store:\n    pass\n")
    (tmp_path / "web.js").write_text("export function render(x) { return x; }\n")
    code, report = run_doctor(["--no-probe", "--dir", str(tmp_path)], capsys)
    index = find(report, "index", "workspace")
    assert code == 0 and index["status"] == "ok"
    assert index["detail"].startswith("2 files") and "python 1" in index["detail"]
    code, report = run_doctor(["--no-probe", "--dir", str(tmp_path / "missing")], capsys)
    assert code == 1 and find(report, "folder", "workspace")["status"] == "fail"


def test_endpoint_down_is_a_failure_with_a_fix(capsys: pytest.CaptureFixture[str], small_model: Path) -> None:
    code, report = run_doctor(["--endpoint", f"http://127.0.0.1:{free_port()}/v1"], capsys)
    endpoint = find(report, "endpoint", "completion")
    assert code == 1 and endpoint["status"] == "fail"
    assert "cannot reach" in endpoint["detail"] and "llama_cpp.server" in endpoint["fix"]


def test_endpoint_up_is_probed(llama_server: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    code, report = run_doctor(["--endpoint", llama_server], capsys)
    assert code == 0, report
    assert find(report, "endpoint", "completion")["status"] == "ok"
    assert find(report, "server", "completion")["detail"].startswith("OpenAI-compatible")
    assert find(report, "fim", "completion")["status"] == "warn"  # SmolLM2 behind the server
    probe = find(report, "probe", "completion")
    assert probe["status"] == "ok" and "1 token in" in probe["detail"]


def test_a_reader_that_stops_early_is_no_error(tmp_path) -> None:
    # `tandem-lsp doctor | head -1`: the pipe closes before the report is written.
    doctor = subprocess.Popen([sys.executable, "-m", "tandem_lsp", "doctor", "--no-probe"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    doctor.stdout.close()
    _, errors = doctor.communicate(timeout=120)
    assert b"BrokenPipeError" not in errors and b"Traceback" not in errors
    assert doctor.returncode == 0
