-- What exists before setup(): plugin/tandem.lua's commands (loading nothing
-- until run), the TandemGhostText highlight across :colorscheme, lsp/tandem.lua
-- and vim.lsp.enable('tandem') (0.11+) against the fake server: roots with and
-- without a marker, keys wired without setup(); then setup() on top.
local H = dofile(os.getenv('TANDEM_HELPERS'))
local F = dofile(vim.fs.dirname(os.getenv('TANDEM_HELPERS')) .. '/fake_server.lua')
local plugin = os.getenv('TANDEM_PLUGIN')
local files = vim.json.decode(os.getenv('TANDEM_FILES'))

local r = H.result
r.notes = {}
vim.notify = function(msg)
  table.insert(r.notes, msg)
end

local function tandem_commands()
  local names = {}
  for name in pairs(vim.api.nvim_get_commands({ builtin = false })) do
    if name:match('^Tandem') then
      table.insert(names, name)
    end
  end
  table.sort(names)
  return names
end

local function hl()
  local def = vim.api.nvim_get_hl(0, { name = 'TandemGhostText' })
  return { link = def.link or vim.NIL, fg = def.fg or vim.NIL }
end

local function loaded(name)
  return package.loaded[name] ~= nil
end

-- Buffer-local insert mappings the plugin made.
local function tandem_keys(bufnr)
  local out = {}
  for _, m in ipairs(vim.api.nvim_buf_get_keymap(bufnr, 'i')) do
    if (m.desc or ''):match('^tandem:') then
      out[m.desc] = m.lhs
    end
  end
  return out
end

-- Startup as Neovim does it for a plugin on the runtimepath.
vim.opt.runtimepath:prepend(plugin)
r.hl_before = hl()
vim.cmd.runtime('plugin/tandem.lua')
r.commands_before_setup = tandem_commands()
r.loaded_after_plugin = { tandem = loaded('tandem'), commands = loaded('tandem.commands'), ghost = loaded('tandem.ghost') }
vim.cmd.runtime('plugin/tandem.lua') -- sourcing again changes nothing
r.commands_after_second_source = tandem_commands()

-- A command runs before setup(): it loads its module and says there is no server.
vim.cmd('TandemStats')
r.stats_note = r.notes[#r.notes] or vim.NIL
r.loaded_after_command = loaded('tandem.commands')

-- The highlight survives :colorscheme; a user's own definition wins over the default link.
r.hl_after_plugin = hl()
vim.cmd('colorscheme default')
r.hl_after_colorscheme = hl()
r.hl_autocmds = #vim.api.nvim_get_autocmds({ group = 'tandem_highlight', event = 'ColorScheme' })
vim.cmd('highlight clear TandemGhostText')
vim.api.nvim_set_hl(0, 'TandemGhostText', { fg = '#ff0000' })
vim.cmd('doautocmd ColorScheme')
r.hl_user = hl()
vim.cmd('colorscheme default')

-- lsp/tandem.lua as vim.lsp.config loads it.
local ok, cfg = pcall(dofile, plugin .. '/lsp/tandem.lua')
r.lsp_config = ok and {
  cmd = cfg.cmd,
  filetypes = cfg.filetypes,
  root_markers = cfg.root_markers,
  settings = cfg.settings,
  has_capability = vim.tbl_get(cfg, 'capabilities', 'textDocument', 'inlineCompletion') ~= nil,
} or tostring(cfg)

r.has_enable = vim.lsp.enable ~= nil and vim.lsp.config ~= nil
if not r.has_enable then
  return H.finish(nil) -- Neovim 0.10: no vim.lsp.enable
end

r.resolved_cmd = vim.lsp.config.tandem and vim.lsp.config.tandem.cmd or vim.NIL
vim.lsp.config('tandem', {
  cmd = F.cmd({ anchor = '', suggestion = 'pass', alternative = 'pass' }),
  settings = { tandem = { completion = { maxTokens = 16 } } },
})
vim.lsp.enable('tandem')

local opened = {}
local function open(name)
  return {
    name = 'open_' .. name,
    run = function()
      vim.cmd.edit(files[name])
      opened[name] = vim.api.nvim_get_current_buf()
    end,
    wait = H.client_ready(function()
      return opened[name]
    end, function(client)
      r[name] = {
        client = client.id,
        root_dir = client.root_dir or vim.NIL,
        keys = tandem_keys(opened[name]),
        clients = #vim.lsp.get_clients({ name = 'tandem' }),
      }
    end),
    timeout_ms = 10000,
  }
end

H.run({
  open('loose'),
  open('project'),
  open('loose_again'),
  { name = 'initialize', wait = function()
      r.initialize = F.initialize
      r.setup_done_before = require('tandem').config ~= nil
      return true
    end },
  { name = 'setup', run = function()
      require('tandem').setup({ cmd = F.cmd({ anchor = '', suggestion = 'pass', alternative = 'pass' }), filetypes = { 'python' } })
      r.commands_after_setup = tandem_commands()
    end },
  { name = 'after_setup', wait = function()
      r.clients_after_setup = #vim.lsp.get_clients({ name = 'tandem' })
      return true
    end },
}, 30000)
