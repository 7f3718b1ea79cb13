-- :checkhealth tandem
local M = {}

local health = vim.health

function M.check()
  health.start('tandem: Neovim')
  if vim.fn.has('nvim-0.10') == 1 then
    health.ok('Neovim ' .. tostring(vim.version()))
  else
    health.error('Neovim 0.10 or newer is required', { 'Upgrade Neovim' })
  end

  local tandem = require('tandem')
  health.start('tandem: setup')
  local enabled = vim.lsp.is_enabled ~= nil and vim.lsp.is_enabled('tandem')
  local opts = tandem.options()
  local cmd = opts.cmd
  if tandem.config then
    health.ok('filetypes: ' .. table.concat(tandem.config.filetypes, ', '))
  elseif enabled then
    health.ok("started by vim.lsp.enable('tandem') (lsp/tandem.lua); keys and ghost text use the default options")
    cmd = vim.lsp.config.tandem and vim.lsp.config.tandem.cmd or cmd
  else
    health.warn("neither require('tandem').setup() nor vim.lsp.enable('tandem') has been called", {
      "Call require('tandem').setup({}) in your config",
      "or, on Neovim 0.11+, vim.lsp.enable('tandem')",
    })
    return
  end

  health.start('tandem: server')
  local exe = type(cmd) == 'table' and vim.fn.expand(cmd[1]) or nil
  if exe and vim.fn.executable(exe) == 1 then
    health.ok(('server command: %s (%s)'):format(table.concat(cmd, ' '), vim.fn.exepath(exe)))
    health.info('`tandem-lsp doctor` checks model files, FIM support, memory and GPU offload')
  elseif exe then
    health.error(('%q is not executable'):format(exe), {
      'pip install tandem-lsp (or point cmd at it)',
      "setup({ cmd = { '/path/to/venv/bin/tandem-lsp', 'serve' } })",
      "setup({ cmd = { '/path/to/python', '-m', 'tandem_lsp', 'serve' } })",
    })
  end
  local clients = vim.lsp.get_clients({ name = 'tandem' })
  if #clients == 0 then
    health.info('no tandem client running (open a file of a configured filetype)')
  end
  for _, client in ipairs(clients) do
    local info = client.server_info or {}
    local buffers = vim.tbl_keys(client.attached_buffers or {})
    health.ok(('client %d: %s %s, root %s, %d buffer(s)'):format(
      client.id, info.name or 'tandem-lsp', info.version or '', client.root_dir or 'none (no root marker: nothing indexed)', #buffers))
    local caps = client.server_capabilities or {}
    if caps.inlineCompletionProvider then
      health.ok('server offers inline completion')
    else
      health.warn('server does not announce inlineCompletionProvider')
    end
  end
  local status = require('tandem.status')
  local report = status.state == 'error' and health.error or health.info
  report(('server status: %s %s'):format(status.state, status.message or ''))

  health.start('tandem: inline completion')
  if not opts.inline.enabled then
    health.info('inline completion is off in setup()')
  elseif tandem.is_native() then
    health.ok('using Neovim built-in vim.lsp.inline_completion (it asks by itself: no trigger key)')
  else
    health.ok('using tandem ghost text (extmarks), debounce ' .. opts.inline.debounce_ms .. ' ms')
  end
  for _, name in ipairs({ 'accept', 'accept_word', 'accept_line', 'next', 'prev', 'dismiss', 'trigger' }) do
    local lhs = opts.keymaps[name]
    if lhs and not (name == 'trigger' and tandem.is_native()) then
      health.info(('%s: %s'):format(name, lhs))
    end
  end
end

return M
