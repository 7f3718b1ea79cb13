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
  if not tandem.config then
    health.warn("require('tandem').setup() has not been called", { "Call require('tandem').setup({}) in your config" })
    return
  end
  health.ok('filetypes: ' .. table.concat(tandem.config.filetypes, ', '))

  health.start('tandem: server')
  local cmd = tandem.config.cmd
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
      client.id, info.name or 'tandem-lsp', info.version or '', client.root_dir or '?', #buffers))
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
  if not tandem.config.inline.enabled then
    health.info('inline completion is off in setup()')
  elseif tandem.is_native() then
    health.ok('using Neovim built-in vim.lsp.inline_completion (accept word/line keys are not available there)')
  else
    health.ok('using tandem ghost text (extmarks), debounce ' .. tandem.config.inline.debounce_ms .. ' ms')
  end
  for name, lhs in pairs(tandem.config.keymaps) do
    if lhs then
      health.info(('%s: %s'):format(name, lhs))
    end
  end
end

return M
