-- tandem.nvim: starts tandem-lsp for configured filetypes and shows its inline
-- suggestions as ghost text. Usage: require('tandem').setup({ ... }) (see config.lua),
-- or on Neovim 0.11+ vim.lsp.enable('tandem') (lsp/tandem.lua) with the default options.
local client = require('tandem.client')
local compat = require('tandem.compat')
local config = require('tandem.config')
local status = require('tandem.status')

local M = {}

M.config = nil

--- The options in use: setup()'s, or the defaults when only vim.lsp.enable('tandem') started the server.
function M.options()
  return M.config or config.merge({})
end

local function is_native()
  local choice = M.options().inline.native
  if choice == 'auto' or choice == true then
    return require('tandem.native').available()
  end
  return false
end

local warned_missing = false

--- Start (or reuse) the tandem client for `bufnr`. The root is the nearest
--- folder with a root marker; with none the server gets no root (and indexes nothing).
function M.start(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if vim.bo[bufnr].buftype ~= '' then
    return nil
  end
  local cfg = client.config(M.config)
  if type(cfg.cmd) == 'table' and vim.fn.executable(cfg.cmd[1]) ~= 1 then
    if not warned_missing then
      warned_missing = true
      vim.notify(('tandem: %q is not executable; set cmd in setup() (see :checkhealth tandem)'):format(cfg.cmd[1]), vim.log.levels.ERROR)
    end
    return nil
  end
  cfg.root_dir = vim.fs.root(bufnr, M.config.root_markers)
  cfg.filetypes, cfg.root_markers = nil, nil
  return vim.lsp.start(cfg, { bufnr = bufnr, reuse_client = client.reuse })
end

--- Wire ghost text and keys into a buffer (done on LspAttach for tandem).
function M.attach(bufnr)
  local opts = M.options()
  local path = is_native() and require('tandem.native') or require('tandem.ghost')
  if opts.inline.enabled then
    path.attach(bufnr, opts.inline)
  end
  require('tandem.keymaps').attach(bufnr, opts.keymaps, path)
end

local function wants(filetype)
  local fts = M.config.filetypes
  return vim.tbl_contains(fts, '*') or vim.tbl_contains(fts, filetype)
end

function M.setup(opts)
  M.config = config.merge(opts)
  local group = vim.api.nvim_create_augroup('tandem', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    callback = function(args)
      if wants(args.match) then
        M.start(args.buf)
      end
    end,
  })
  -- Commands, highlight and the LspAttach hook (plugin/tandem.lua defines them at
  -- startup; this covers a runtimepath added later).
  require('tandem.bootstrap').all()
  -- setup() may run after buffers were opened (lazy loading): attach to them too.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype ~= '' and wants(vim.bo[bufnr].filetype) then
      M.start(bufnr)
    end
  end
end

--- Change server settings at run time (same shape as setup's `settings`). The
--- change is kept in the plugin's settings (servers started later get it too) and
--- each running server gets its whole settings table with the change on top: the
--- server replaces its client settings with each update, so a partial table
--- would drop the rest.
function M.update_settings(settings)
  settings = settings or {}
  M.config = M.options()
  M.config.settings = vim.tbl_deep_extend('force', M.config.settings or {}, settings)
  if vim.lsp.config then
    -- vim.lsp.enable('tandem') starts later servers from this config.
    pcall(vim.lsp.config, 'tandem', { settings = { tandem = settings } })
  end
  for _, c in ipairs(vim.lsp.get_clients({ name = 'tandem' })) do
    -- The client's own table: it also holds settings given through vim.lsp.config.
    local current = vim.tbl_get(c.settings or {}, 'tandem')
    local merged = vim.tbl_deep_extend('force', type(current) == 'table' and current or {}, settings)
    c.settings = vim.tbl_extend('force', c.settings or {}, { tandem = client.as_object(merged) })
    compat.notify(c, 'workspace/didChangeConfiguration', { settings = c.settings })
  end
end

--- For statuslines: e.g. "tandem ✓" or "tandem ⟳ indexing".
M.statusline = status.statusline
M.is_native = is_native

return M
