#!/usr/bin/env bash
# Fetch a Debian suite's Neovim with apt (isolated lists: the host's apt setup is
# untouched), unpack it with its libraries, and write a wrapper that runs it
# through that suite's own dynamic loader, so a glibc newer than the host's works.
#   sid    -> Neovim 0.12 (built-in vim.lsp.inline_completion path)
#   trixie -> Neovim 0.10 (oldest supported)
# Usage: get-nvim-debian.sh SUITE DIR; then TANDEM_NVIM=DIR/nvim pytest tests/system/test_nvim.py
set -euo pipefail
SUITE="${1:-sid}"
DIR="${2:-$HOME/.cache/tandem-nvim-$SUITE}"
mkdir -p "$DIR/lists/partial" "$DIR/cache/archives/partial" "$DIR/debs" "$DIR/root"
echo "deb http://deb.debian.org/debian $SUITE main" > "$DIR/sources.list"
APT=(-o "Dir::Etc::sourcelist=$DIR/sources.list" -o Dir::Etc::sourceparts=/dev/null
     -o "Dir::State::Lists=$DIR/lists" -o "Dir::Cache=$DIR/cache")
apt-get "${APT[@]}" update -qq
mapfile -t PACKAGES < <(apt-cache "${APT[@]}" depends --recurse --no-recommends --no-suggests \
  --no-conflicts --no-breaks --no-replaces --no-enhances --no-pre-depends neovim neovim-runtime \
  | grep -v '^ ' | grep -v '^<' | sort -u)
(cd "$DIR/debs" && apt-get "${APT[@]}" download "${PACKAGES[@]}")
for deb in "$DIR"/debs/*.deb; do dpkg-deb -x "$deb" "$DIR/root"; done
cat > "$DIR/nvim" <<WRAP
#!/bin/sh
R="$DIR/root"
L="\$R/usr/lib/x86_64-linux-gnu"
export VIMRUNTIME="\$R/usr/share/nvim/runtime"
export LUA_CPATH="\$L/lua/5.1/?.so;;"
exec "\$L/ld-linux-x86-64.so.2" --library-path "\$L" "\$R/usr/bin/nvim" "\$@"
WRAP
chmod +x "$DIR/nvim"
"$DIR/nvim" --version | head -1
