-- tandem.nvim: starts tandem-lsp for configured filetypes and shows its inline
-- suggestions as ghost text. Usage: require('tandem').setup({ ... }) (see config.lua).
local compat = require('tandem.compat')
local config = require('tandem.config')
local status = require('tandem.status')

local M = {}

M.config = nil

local function is_native()
  local choice = M.config.inline.native
  if choice == 'auto' then
    return require('tandem.native').available()
  end
  return choice == true and require('tandem.native').available()
end

-- Lua's empty table encodes as a JSON array; the server wants an object.
local function as_object(tbl)
  return (type(tbl) == 'table' and next(tbl) ~= nil) and tbl or vim.empty_dict()
end

local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.textDocument = caps.textDocument or {}
  caps.textDocument.inlineCompletion = caps.textDocument.inlineCompletion or { dynamicRegistration = false }
  return caps
end

local warned_missing = false

--- Start (or reuse) the tandem client for `bufnr`.
function M.start(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if vim.bo[bufnr].buftype ~= '' then
    return nil
  end
  local cmd = M.config.cmd
  if type(cmd) == 'table' then
    -- Allow '~/venv/bin/tandem-lsp'; the process is spawned without a shell.
    cmd = vim.list_extend({ vim.fn.expand(cmd[1]) }, vim.list_slice(cmd, 2))
  end
  if type(cmd) == 'table' and vim.fn.executable(cmd[1]) ~= 1 then
    if not warned_missing then
      warned_missing = true
      vim.notify(('tandem: %q is not executable; set cmd in setup() (see :checkhealth tandem)'):format(cmd[1]), vim.log.levels.ERROR)
    end
    return nil
  end
  local settings = as_object(M.config.settings)
  return vim.lsp.start({
    name = 'tandem',
    cmd = cmd,
    root_dir = vim.fs.root(bufnr, M.config.root_markers) or vim.fn.getcwd(),
    init_options = settings,
    settings = { tandem = settings },
    capabilities = capabilities(),
    handlers = { ['tandem/status'] = status.handler },
  }, { bufnr = bufnr })
end

--- Wire ghost text and keys into a buffer (done on LspAttach for tandem).
function M.attach(bufnr)
  local inline = M.config.inline
  local actions
  if is_native() then
    local native = require('tandem.native')
    if inline.enabled then
      native.attach(bufnr)
    end
    actions = {
      visible = function()
        return native.visible(bufnr)
      end,
      accept = function()
        native.accept(bufnr)
      end,
    }
    -- The built-in path has no partial accept, dismiss or trigger key (it asks on
    -- every cursor move and dismisses on the next one).
    local keys = vim.tbl_extend('force', M.config.keymaps, { accept_word = false, accept_line = false, dismiss = false, trigger = false })
    require('tandem.keymaps').attach(bufnr, keys, actions)
    return
  end
  local ghost = require('tandem.ghost')
  if inline.enabled then
    ghost.attach(bufnr, inline)
  end
  actions = {
    visible = function()
      return ghost.visible(bufnr)
    end,
    accept = function(how)
      ghost.accept(bufnr, how)
    end,
    dismiss = function()
      ghost.clear(bufnr)
    end,
    trigger = function()
      ghost.request(bufnr, 1)
    end,
  }
  require('tandem.keymaps').attach(bufnr, M.config.keymaps, actions)
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
  vim.api.nvim_create_autocmd('LspAttach', {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == 'tandem' then
        M.attach(args.buf)
      end
    end,
  })
  require('tandem.commands').register()
  -- setup() may run after buffers were opened (lazy loading): attach to them too.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype ~= '' and wants(vim.bo[bufnr].filetype) then
      M.start(bufnr)
    end
  end
end

--- Change server settings at run time (same shape as setup's `settings`).
function M.update_settings(settings)
  M.config.settings = vim.tbl_deep_extend('force', M.config.settings or {}, settings or {})
  for _, client in ipairs(vim.lsp.get_clients({ name = 'tandem' })) do
    client.settings = { tandem = as_object(M.config.settings) }
    compat.notify(client, 'workspace/didChangeConfiguration', { settings = client.settings })
  end
end

--- For statuslines: e.g. "tandem ✓" or "tandem ⟳ indexing".
M.statusline = status.statusline
M.is_native = function()
  return M.config ~= nil and is_native()
end

return M
