"""`tandem-lsp doctor`: check every configured model and the workspace, and say how to fix what is wrong.

For each model role: the file (or endpoint), its GGUF metadata, FIM support,
chat template, an estimate of the memory it needs at the configured context
size, and a timed one-token probe through the same backend the server uses.
Then the llama.cpp build (GPU offload) and, given a folder, the workspace
index. Exit status 0 when nothing failed (warnings allowed), else 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from tandem_lsp.cli.common import add_model_arguments, human_size, settings_from_args
from tandem_lsp.config import IndexSettings, ModelSettings, Settings
from tandem_lsp.models.backend import GenerationRequest, ModelError
from tandem_lsp.models.embedded import INSTALL_HINT
from tandem_lsp.models.gguf_file import check_model_file
from tandem_lsp.models.gguf_info import GGUFInfo, read_gguf_info
from tandem_lsp.models.registry import LOCAL_INSTALL_HINT, ROLES, ModelKey, Role, resolve_key, role_settings

Status = Literal["ok", "warn", "fail", "info"]

# llama.cpp processes prompts in micro-batches of this many tokens (n_ubatch).
_UBATCH = 512
_GET_MODELS = "python benchmarks/get_models.py (Qwen2.5-Coder 0.5B/1.5B, with FIM)"


@dataclass
class Check:
    section: str
    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass
class MemoryEstimate:
    weights: int
    kv_cache: int
    compute: int

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.compute


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "doctor",
        help="check models, GPU offload, memory and the workspace index; print fixes",
        description=__doc__.split("\n\n")[0],
    )
    add_model_arguments(parser)
    parser.add_argument("--dir", metavar="DIR", help="also index this workspace folder and report on it")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument("--no-probe", action="store_true", help="skip loading each model for the 1-token probe")
    return parser


# -- the llama.cpp build --------------------------------------------------------


def _gpu_hardware() -> str:
    """What accelerator this machine seems to have ("" if none is visible)."""
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        return "metal"
    if shutil.which("nvidia-smi") or Path("/proc/driver/nvidia").exists():
        return "cuda"
    if shutil.which("rocminfo") or Path("/dev/kfd").exists():
        return "rocm"
    return ""


_REBUILD = {
    "cuda": 'CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-cache-dir llama-cpp-python',
    "metal": 'CMAKE_ARGS="-DGGML_METAL=on" pip install --force-reinstall --no-cache-dir llama-cpp-python',
    "rocm": 'CMAKE_ARGS="-DGGML_HIP=on" pip install --force-reinstall --no-cache-dir llama-cpp-python',
}


def check_runtime(needs_local: bool = True) -> list[Check]:
    """The llama.cpp build; without one, a failure only when a role needs a GGUF run in-process."""
    section = "llama.cpp"
    try:
        import llama_cpp
    except ImportError as exc:
        if not needs_local:
            return [Check(section, "import", "info", "llama-cpp-python is not installed: HTTP endpoints only",
                          f"for GGUF models in-process: {LOCAL_INSTALL_HINT}")]
        return [Check(section, "import", "fail", f"llama-cpp-python is not importable ({exc})",
                      f"{LOCAL_INSTALL_HINT}; llama.cpp builds from source, a few minutes")]
    checks = [Check(section, "version", "ok", f"llama-cpp-python {llama_cpp.__version__}")]
    offload = bool(llama_cpp.llama_supports_gpu_offload())
    hardware = _gpu_hardware()
    if offload:
        checks.append(Check(section, "gpu offload", "ok", "this build can offload layers to the GPU"))
    elif hardware:
        checks.append(Check(section, "gpu offload", "warn",
                            f"this build is CPU-only, but the machine has a {hardware.upper()} GPU",
                            f"rebuild with GPU support: {_REBUILD[hardware]}"))
    else:
        checks.append(Check(section, "gpu offload", "info",
                            "CPU-only build and no GPU found; completions run on the CPU",
                            f"with an NVIDIA GPU: {_REBUILD['cuda']}; on Apple silicon: {_REBUILD['metal']}"))
    return checks


# -- memory ---------------------------------------------------------------------


def available_memory() -> int | None:
    """Bytes of memory available now (Linux), else physical memory, else None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def estimate_memory(info: GGUFInfo, context: int) -> MemoryEstimate:
    """Weights (the file, memory-mapped) + f16 KV cache + a rough compute buffer.

    The compute buffer is dominated by one micro-batch of logits and
    activations: ubatch x (vocabulary + a few hidden widths) floats.
    """
    vocab = int(info.metadata.get("tokenizer.ggml.tokens.count", 0))
    compute = _UBATCH * (vocab + 4 * info.embedding_length) * 4
    return MemoryEstimate(info.file_size, info.kv_cache_bytes(context), compute)


# -- one model role ---------------------------------------------------------------


def _role_title(role: Role, model: ModelSettings, key: ModelKey) -> str:
    if key.endpoint:
        return f"{role} model: {key.endpoint}" + (f" ({key.remote_model})" if key.remote_model else "")
    origin = "" if model.path else " (embedded default)"
    return f"{role} model: {key.path}{origin}"


def check_local_model(section: str, role: Role, path: str, model: ModelSettings, probe: bool) -> list[Check]:
    checks: list[Check] = []
    try:
        check_model_file(path)
        info = read_gguf_info(path)
    except ModelError as exc:
        flag = "--reasoning-model" if role == "reasoning" else "--model"
        fix = (f"check {role}Model.path in your settings or {flag}; "
               "`tandem-lsp models` lists the GGUF files on this machine")
        # Decide by the message's start: the path at its end may contain any word.
        if str(exc).startswith("GGUF file is truncated"):
            fix = "the file is incomplete: download it again"
        elif str(exc).startswith("not a GGUF"):
            fix = "point tandem at a .gguf file (llama.cpp format); convert others with llama.cpp's convert_hf_to_gguf.py"
        return [Check(section, "file", "fail", str(exc), fix)]
    checks.append(Check(section, "file", "ok", f"{path} ({human_size(info.file_size)})"))
    size = f", {info.size_label}" if info.size_label else ""
    checks.append(Check(section, "metadata", "ok",
                        f"{info.name}: {info.architecture}{size}, {info.quantization}, trained context {info.context_length or '?'}"))

    if info.has_fim:
        checks.append(Check(section, "fim", "ok", f"{info.fim_family} ({', '.join(info.fim_tokens.values())})"))
    elif role == "completion":
        checks.append(Check(section, "fim", "warn", "no fill-in-the-middle tokens: completes from the prefix only",
                            f"use a coder model with FIM tokens for better completions, e.g. {_GET_MODELS}"))
    else:
        checks.append(Check(section, "fim", "info", "no fill-in-the-middle tokens (not needed for this role)"))

    if info.has_chat_template:
        thinking = "; handles <think> reasoning" if info.reasoning else ""
        checks.append(Check(section, "chat template", "ok", f"present{thinking}"))
    else:
        status: Status = "info" if role == "completion" else "warn"
        checks.append(Check(section, "chat template", status, "none: review/debug prompts fall back to plain text",
                            "" if role == "completion" else "use an instruct model (its GGUF carries a chat template)"))

    context = model.context_size
    if info.context_length and context > info.context_length:
        checks.append(Check(section, "context", "warn",
                            f"configured context {context} exceeds the model's trained {info.context_length}",
                            f"set contextSize to at most {info.context_length}"))
    memory = estimate_memory(info, context)
    available = available_memory()
    detail = (f"~{human_size(memory.total)} at context {context} (weights {human_size(memory.weights)}, "
              f"KV cache {human_size(memory.kv_cache)}, compute ~{human_size(memory.compute)})")
    if available is not None and memory.total > available:
        checks.append(Check(section, "memory", "warn", f"{detail}; only {human_size(available)} available",
                            "lower contextSize, pick a smaller quantisation (Q4_K_M) or a smaller model"))
    else:
        checks.append(Check(section, "memory", "ok",
                            detail + (f" of {human_size(available)} available" if available is not None else "")))
    if probe:
        checks.append(probe_local(section, path, model))
    return checks


def probe_request() -> GenerationRequest:
    """One token after a tiny code prompt: enough to prove the model loads and runs."""
    return GenerationRequest(prompt=["def main():\n"], max_tokens=1, max_time_s=60)


def probe_local(section: str, path: str, model: ModelSettings) -> Check:
    """Load through the server's own backend and generate one token, timed."""
    from tandem_lsp.models.llama_backend import LlamaBackend

    started = time.perf_counter()
    try:
        backend = LlamaBackend(path, model)
    except ModelError as exc:
        return Check(section, "probe", "fail", f"llama.cpp could not load the model: {exc}",
                     "check free memory and that this llama-cpp-python is recent enough for the architecture "
                     "(pip install -U llama-cpp-python)")
    loaded = time.perf_counter()
    try:
        # The first decode after loading pays llama.cpp's one-off set-up; the second is the steady state.
        cold = backend.generate(probe_request())
        first = time.perf_counter()
        backend.generate(probe_request())
        warm = time.perf_counter()
    except ModelError as exc:
        return Check(section, "probe", "fail", f"generation failed: {exc}")
    finally:
        backend.close()
    where = "GPU offload on" if getattr(backend, "gpu_offload", False) else "CPU"
    detail = (f"loaded in {loaded - started:.2f} s; first token {(first - loaded) * 1000:.0f} ms (cold), "
              f"then {(warm - first) * 1000:.0f} ms warm ({cold.prompt_tokens} prompt tokens, {where})")
    return Check(section, "probe", "ok" if cold.generated_tokens or cold.text else "warn", detail)


def check_endpoint(section: str, role: Role, model: ModelSettings, probe: bool) -> list[Check]:
    from tandem_lsp.models.http_backend import HttpBackend

    try:
        backend = HttpBackend(model)
    except ModelError as exc:
        return [Check(section, "endpoint", "fail", str(exc), "set endpoint to e.g. http://127.0.0.1:8080/v1")]
    try:
        try:
            listed = backend.models()
        except ModelError as exc:
            return [Check(section, "endpoint", "fail", str(exc),
                          "start the server (llama-server -m MODEL.gguf --port 8080, or python -m llama_cpp.server "
                          "--model MODEL.gguf) or fix the endpoint URL")]
        checks = [Check(section, "endpoint", "ok", f"reachable; serves {', '.join(listed) or 'an unnamed model'}")]
        if model.remote_model and listed and model.remote_model not in listed:
            checks.append(Check(section, "model name", "warn", f"{model.remote_model!r} is not among the served models",
                                f"set remoteModel to one of: {', '.join(listed)}"))
        kind = "llama-server (native /infill)" if backend.is_llama_server() else "OpenAI-compatible (/completions)"
        checks.append(Check(section, "server", "info", kind))
        fim = backend.fim
        if fim.has_fim:
            checks.append(Check(section, "fim", "ok", f"{fim.family}"))
        elif role == "completion":
            checks.append(Check(section, "fim", "warn", "no FIM template known: completes from the prefix only",
                                "set fimFamily (qwen, starcoder, codellama, deepseek, codestral) for a FIM model"))
        if probe:
            started = time.perf_counter()
            try:
                result = backend.generate(probe_request())
                checks.append(Check(section, "probe", "ok",
                                    f"1 token in {(time.perf_counter() - started) * 1000:.0f} ms ({result.stop_reason})"))
            except ModelError as exc:
                checks.append(Check(section, "probe", "fail", str(exc)))
        return checks
    finally:
        backend.close()


def needs_local_runtime(settings: Settings) -> bool:
    """Whether some role runs a GGUF in-process (the embedded default counts), not over HTTP."""
    return any(not role_settings(settings, role).endpoint for role in ROLES)


def check_roles(settings: Settings, probe: bool, probe_local: bool | None = None) -> list[Check]:
    """Each role's model; `probe_local` (default: `probe`) says whether GGUFs are loaded for the probe."""
    probe_local = probe if probe_local is None else probe_local
    checks: list[Check] = []
    seen: dict[ModelKey, Role] = {}
    for role in ROLES:
        model = role_settings(settings, role)
        try:
            key = resolve_key(model)
        except ModelError as exc:
            checks.append(Check(f"{role} model", "file", "fail", str(exc), INSTALL_HINT))
            continue
        section = _role_title(role, model, key)
        if key in seen:
            checks.append(Check(f"{role} model", "shared", "info", f"same model as the {seen[key]} role"))
            continue
        seen[key] = role
        if key.endpoint:
            checks += check_endpoint(section, role, model, probe)
        else:
            checks += check_local_model(section, role, key.path, model, probe_local)
    return checks


# -- the workspace ----------------------------------------------------------------


def check_workspace(folder: str, settings: IndexSettings) -> list[Check]:
    section = f"workspace: {folder}"
    if not os.path.isdir(folder):
        return [Check(section, "folder", "fail", f"not a folder: {folder}")]
    try:
        from tandem_lsp.context.index import WorkspaceIndex
    except ImportError as exc:
        return [Check(section, "index", "warn", f"workspace index unavailable ({exc})")]
    index = WorkspaceIndex([folder], settings)
    try:
        stats = index.build()
    finally:
        index.stop()
    languages = ", ".join(f"{lang} {n}" for lang, n in sorted(stats.files_by_language.items(), key=lambda kv: -kv[1]))
    detail = (f"{stats.files} files ({languages or 'none recognised'}), {stats.definitions} definitions, "
              f"{stats.chunks} chunks in {stats.seconds:.2f} s; skipped {stats.skipped}")
    checks = [Check(section, "index", "ok" if stats.files else "warn", detail,
                    "" if stats.files else "no source files found: check index.exclude and the folder")]
    if stats.errors:
        more = f" (+{len(stats.errors) - 3} more)" if len(stats.errors) > 3 else ""
        checks.append(Check(section, "index errors", "warn", "; ".join(stats.errors[:3]) + more,
                            "see `tandem-lsp index DIR` for the full list"))
    if stats.files >= settings.max_files:
        checks.append(Check(section, "size", "warn", f"stopped at index.maxFiles={settings.max_files}",
                            "exclude generated/vendored folders (index.exclude) or raise index.maxFiles"))
    return checks


# -- output -----------------------------------------------------------------------


def render(checks: list[Check]) -> str:
    lines: list[str] = []
    section = None
    for check in checks:
        if check.section != section:
            section = check.section
            lines.append(("\n" if lines else "") + section)
        lines.append(f"  {check.status:<4}  {check.name:<14} {check.detail}")
        if check.fix:
            lines.append(f"        fix: {check.fix}")
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    lines.append(f"\n{failed} failed, {warned} warnings")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    probe = not args.no_probe
    checks = check_runtime(needs_local_runtime(settings))
    runtime = checks[0].name != "import"  # else nothing to load GGUF models with
    checks += check_roles(settings, probe, probe and runtime)
    if args.dir:
        checks += check_workspace(args.dir, settings.index)
    ok = not any(c.status == "fail" for c in checks)
    if args.json:
        json.dump({"ok": ok, "checks": [asdict(c) for c in checks]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(render(checks))
    return 0 if ok else 1
