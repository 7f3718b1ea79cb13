-- The LSP client configuration for tandem-lsp, built from the plugin's options.
-- Used by setup() (vim.lsp.start per buffer) and by lsp/tandem.lua (vim.lsp.enable).
local compat = require('tandem.compat')

local M = {}

-- Lua's empty table encodes as a JSON array; the server wants an object.
local function as_object(tbl)
  return (type(tbl) == 'table' and next(tbl) ~= nil) and tbl or vim.empty_dict()
end
M.as_object = as_object

function M.capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.textDocument = caps.textDocument or {}
  -- Announced also where the plugin draws the ghost text itself (0.10/0.11): the
  -- server then leaves the suggestion out of the ordinary completion popup.
  caps.textDocument.inlineCompletion = caps.textDocument.inlineCompletion or { dynamicRegistration = false }
  return caps
end

--- The command with a leading '~' expanded (the process is spawned without a shell).
function M.cmd(cmd)
  if type(cmd) == 'table' then
    return vim.list_extend({ vim.fn.expand(cmd[1]) }, vim.list_slice(cmd, 2))
  end
  return cmd
end

--- Reuse a running tandem server for a file outside any project (no root):
--- it joins without a workspace folder, so nothing more is indexed, and no
--- second server loads the models again. A file with a root needs a server
--- that has that root among its workspace folders.
function M.reuse(client, config)
  if client.name ~= config.name or compat.is_stopped(client) then
    return false
  end
  if not config.root_dir then
    return true
  end
  local uri = vim.uri_from_fname(config.root_dir)
  for _, folder in ipairs(client.workspace_folders or {}) do
    if folder.uri == uri then
      return true
    end
  end
  return false
end

-- The settings go to the server twice: as initializationOptions (unless the
-- config sets init_options itself) and as the "tandem" section of workspace/configuration.
local function before_init(params, config)
  local init = params.initializationOptions
  if init == nil or init == vim.NIL or (type(init) == 'table' and next(init) == nil) then
    params.initializationOptions = as_object(vim.tbl_get(config, 'settings', 'tandem'))
  end
end

--- A vim.lsp config table (vim.lsp.start / vim.lsp.config) for `opts`, the plugin's options.
function M.config(opts)
  local filetypes = opts.filetypes
  if vim.tbl_contains(filetypes, '*') then
    filetypes = nil -- vim.lsp.enable: no filetypes means every filetype
  end
  return {
    name = 'tandem',
    cmd = M.cmd(opts.cmd),
    filetypes = filetypes,
    root_markers = opts.root_markers,
    settings = { tandem = as_object(opts.settings) },
    capabilities = M.capabilities(),
    handlers = {
      ['tandem/status'] = function(...)
        return require('tandem.status').handler(...)
      end,
    },
    before_init = before_init,
    reuse_client = M.reuse,
  }
end

return M
