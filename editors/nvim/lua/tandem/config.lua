-- Defaults for require('tandem').setup(); every field is optional.
local M = {}

M.defaults = {
  -- How to start the server. Use { '/path/to/python', '-m', 'tandem_lsp', 'serve' } for a venv.
  cmd = { 'tandem-lsp', 'serve' },
  -- Filetypes that get the server; { '*' } attaches to every file buffer.
  filetypes = { 'python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'go', 'rust', 'java', 'c', 'cpp' },
  -- The first parent folder holding one of these is the workspace root, which the
  -- server indexes. With none, the server starts without a root and indexes nothing
  -- (never the current directory, which may be $HOME).
  root_markers = { '.git', 'pyproject.toml', 'setup.py', 'package.json', 'go.mod', 'Cargo.toml', 'pom.xml', 'build.gradle', 'CMakeLists.txt', 'Makefile' },
  -- Server settings, same shape as the server's (camelCase), e.g.
  -- { completionModel = { path = '~/models/qwen2.5-coder-1.5b-q4_k_m.gguf' }, completion = { maxTokens = 64 } }
  settings = {},
  inline = {
    enabled = true,
    -- 'auto': Neovim's own vim.lsp.inline_completion on 0.12+, the plugin's ghost text before.
    native = 'auto',
    debounce_ms = 75,
    hl_group = 'TandemGhostText',
  },
  -- Insert-mode keys; set one to false to leave that key alone. A key falls back to
  -- your own mapping (or the plain key) when no suggestion is visible.
  keymaps = {
    accept = '<Tab>',
    accept_word = '<M-Right>',
    accept_line = '<M-C-Right>',
    next = '<M-]>',
    prev = '<M-[>',
    dismiss = '<C-]>',
    trigger = '<M-\\>', -- plugin ghost text (0.10/0.11) only: the built-in asks by itself
  },
}

function M.merge(opts)
  return vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
end

return M
