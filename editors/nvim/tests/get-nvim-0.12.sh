#!/usr/bin/env bash
# Fetch Debian sid's Neovim 0.12 with apt (isolated lists; the host's apt setup is
# untouched), unpack it with its libraries, and write a wrapper that runs it
# through sid's own dynamic loader, since sid's glibc is newer than the host's.
# Then: TANDEM_NVIM=<dir>/nvim pytest tests/test_nvim.py
set -euo pipefail
DIR="${1:-$HOME/.cache/tandem-nvim-0.12}"
mkdir -p "$DIR/lists/partial" "$DIR/cache/archives/partial" "$DIR/debs" "$DIR/root"
echo "deb http://deb.debian.org/debian sid main" > "$DIR/sources.list"
APT=(-o "Dir::Etc::sourcelist=$DIR/sources.list" -o Dir::Etc::sourceparts=/dev/null
     -o "Dir::State::Lists=$DIR/lists" -o "Dir::Cache=$DIR/cache")
apt-get "${APT[@]}" update -qq
(cd "$DIR/debs" && apt-get "${APT[@]}" download neovim neovim-runtime libc6 libgcc-s1 \
  libluajit-5.1-2 libluajit-5.1-common libtree-sitter0.26 libunibilium4 libutf8proc3 \
  libuv1t64 lua-lpeg lua-luv)
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
