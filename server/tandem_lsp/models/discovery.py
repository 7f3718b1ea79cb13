"""Find GGUF models already on this machine.

Looks where the usual tools keep them: the Hugging Face hub cache, LM Studio's
models folder, Ollama's blob store (named through its manifests), tandem's own
cache, the embedded default and any folders the user names. Only file names
and small manifests are read here; metadata comes from gguf_info on demand.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from tandem_lsp.models.embedded import default_model_path

OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
# Split models ("…-00002-of-00003.gguf"): llama.cpp opens the first shard.
_SHARD = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
# Do not wander forever through a huge folder tree.
_MAX_DEPTH = 6


@dataclass(frozen=True)
class FoundModel:
    path: Path
    # Where it was found: "huggingface", "lmstudio", "ollama", "tandem", "folder", "embedded".
    source: str
    # How the owning tool names it (repo/file, ollama name:tag, or the file name).
    name: str


def tandem_models_dir(home: Path | None = None) -> Path:
    return (home or Path.home()) / ".cache" / "tandem" / "models"


def _gguf_files(root: Path, depth: int = 0) -> Iterator[Path]:
    """GGUF files under root (following symlinks, as the HF cache uses them), sorted."""
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir():
                if depth < _MAX_DEPTH and not entry.name.startswith("."):
                    yield from _gguf_files(entry, depth + 1)
            elif entry.suffix.lower() == ".gguf" and entry.is_file():
                shard = _SHARD.search(entry.name)
                if shard is None or int(shard.group(1)) == 1:
                    yield entry
        except OSError:
            continue


def _huggingface(env: Mapping[str, str], home: Path) -> Iterator[FoundModel]:
    if env.get("HF_HUB_CACHE"):
        hub = Path(env["HF_HUB_CACHE"])
    elif env.get("HF_HOME"):
        hub = Path(env["HF_HOME"]) / "hub"
    else:
        hub = home / ".cache" / "huggingface" / "hub"
    try:
        repos = sorted(p for p in hub.iterdir() if p.name.startswith("models--"))
    except OSError:
        return
    for repo in repos:
        repo_id = repo.name.removeprefix("models--").replace("--", "/")
        for file in _gguf_files(repo / "snapshots"):
            # snapshots/<revision>/<path inside repo>
            inside = file.relative_to(repo / "snapshots").parts[1:]
            yield FoundModel(file, "huggingface", f"{repo_id}/{'/'.join(inside)}")


def _lmstudio(env: Mapping[str, str], home: Path) -> Iterator[FoundModel]:
    for root in (home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"):
        for file in _gguf_files(root):
            yield FoundModel(file, "lmstudio", "/".join(file.relative_to(root).parts))


def _ollama_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    roots = [Path(env["OLLAMA_MODELS"])] if env.get("OLLAMA_MODELS") else []
    return roots + [home / ".ollama" / "models", Path("/usr/share/ollama/.ollama/models")]


def _ollama_name(manifest: Path, manifests_root: Path) -> str:
    """registry.ollama.ai/library/qwen2.5-coder/1.5b -> qwen2.5-coder:1.5b."""
    parts = manifest.relative_to(manifests_root).parts
    host, *path, tag = parts
    if host == "registry.ollama.ai" and path[:1] == ["library"]:
        path = path[1:]
    elif host != "registry.ollama.ai":
        path = [host, *path]
    return f"{'/'.join(path)}:{tag}"


def _ollama(env: Mapping[str, str], home: Path) -> Iterator[FoundModel]:
    for root in _ollama_roots(env, home):
        manifests = root / "manifests"
        if not manifests.is_dir():
            continue
        for manifest in sorted(p for p in manifests.rglob("*") if p.is_file()):
            try:
                layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers", [])
            except (OSError, ValueError, AttributeError):
                continue  # a manifest we cannot read is not ours to judge
            for layer in layers if isinstance(layers, list) else []:
                if not isinstance(layer, dict) or layer.get("mediaType") != OLLAMA_MODEL_LAYER:
                    continue
                digest = str(layer.get("digest", ""))
                blob = root / "blobs" / digest.replace(":", "-")
                if digest.startswith("sha256:") and blob.is_file():
                    yield FoundModel(blob, "ollama", _ollama_name(manifest, manifests))


def _folders(folders: Iterable[Path], source: str) -> Iterator[FoundModel]:
    for folder in folders:
        folder = folder.expanduser()
        if folder.is_file():
            yield FoundModel(folder, source, folder.name)
            continue
        for file in _gguf_files(folder):
            yield FoundModel(file, source, "/".join(file.relative_to(folder).parts))


def configured_folders(env: Mapping[str, str], extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """--dir arguments plus TANDEM_MODELS_DIR (os.pathsep-separated)."""
    folders = [Path(p) for p in extra]
    folders += [Path(p) for p in env.get("TANDEM_MODELS_DIR", "").split(os.pathsep) if p]
    return folders


def discover(
    extra_dirs: Iterable[str | os.PathLike] = (),
    *,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    include_system: bool = True,
) -> list[FoundModel]:
    """Every GGUF found, each file once (the first place that names it wins).

    `include_system=False` looks only at the configured folders; tests pass
    `home` and `env` to point every source at a temporary tree.
    """
    env = os.environ if env is None else env
    home = home or Path.home()
    sources: list[Iterable[FoundModel]] = [_folders(configured_folders(env, extra_dirs), "folder")]
    if include_system:
        embedded = default_model_path()
        sources += [
            _folders([tandem_models_dir(home)], "tandem"),
            _huggingface(env, home),
            _lmstudio(env, home),
            _ollama(env, home),
            [FoundModel(embedded, "embedded", embedded.name)] if embedded else [],
        ]
    seen: set[Path] = set()
    found: list[FoundModel] = []
    for source in sources:
        for model in source:
            key = model.path.resolve()
            if key not in seen:
                seen.add(key)
                found.append(model)
    return found
