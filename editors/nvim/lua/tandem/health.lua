-- :checkhealth tandem
local compat = require('tandem.compat')

local M = {}

local health = vim.health

-- How long :checkhealth waits for the doctor (it reads model files; it loads none).
local DOCTOR_TIMEOUT_MS = 30000

--- `tandem-lsp doctor --json --no-probe` from the server command: the words up to
--- `serve`, then the doctor's, with the model settings as its flags.
function M.doctor_argv(cmd, settings)
  if type(cmd) ~= 'table' or type(cmd[1]) ~= 'string' then
    return nil
  end
  local argv = {}
  for _, word in ipairs(cmd) do
    if word == 'serve' then
      break
    end
    table.insert(argv, word)
  end
  argv[1] = vim.fn.expand(argv[1])
  vim.list_extend(argv, { 'doctor', '--json', '--no-probe' })
  local flags = {
    { '--model', 'completionModel', 'path' },
    { '--endpoint', 'completionModel', 'endpoint' },
    { '--reasoning-model', 'reasoningModel', 'path' },
  }
  for _, flag in ipairs(flags) do
    local value = vim.tbl_get(type(settings) == 'table' and settings or {}, flag[2], flag[3])
    if type(value) == 'string' and value ~= '' then
      vim.list_extend(argv, { flag[1], vim.fn.expand(value) })
    end
  end
  return argv
end

local function run_doctor_command(argv)
  local ok, proc = pcall(vim.system, argv, { text = true })
  if not ok then
    return nil, tostring(proc)
  end
  local done = proc:wait(DOCTOR_TIMEOUT_MS)
  local decoded, answer = pcall(vim.json.decode, done.stdout or '')
  if decoded and type(answer) == 'table' then
    return answer
  end
  return nil, ('exit %s: %s'):format(tostring(done.code), vim.trim(done.stderr or ''):sub(-400))
end

--- The doctor's checks as health lines: fail -> error, warn -> warn, with the fix as advice.
function M.report_doctor(answer)
  for _, check in ipairs(type(answer.checks) == 'table' and answer.checks or {}) do
    local text = ('%s: %s: %s'):format(check.section or '', check.name or '', check.detail or '')
    local advice = (type(check.fix) == 'string' and check.fix ~= '') and { check.fix } or nil
    if check.status == 'fail' then
      health.error(text, advice)
    elseif check.status == 'warn' then
      health.warn(text, advice)
    elseif check.status == 'ok' then
      health.ok(text)
    else
      health.info(advice and (text .. ' (' .. check.fix .. ')') or text)
    end
  end
end

--- The doctor: the running server's `tandem/doctor` (the settings in force), else
--- `tandem-lsp doctor` as a command.
local function doctor(clients, cmd, settings)
  health.start('tandem: doctor')
  local answer, err, where
  if clients[1] then
    where = ('asked the server (tandem/doctor, client %d)'):format(clients[1].id)
    answer, err = compat.request_sync(clients[1], 'tandem/doctor', vim.empty_dict(), DOCTOR_TIMEOUT_MS)
  end
  if not answer then
    local argv = M.doctor_argv(cmd, settings)
    if err then
      health.warn(('%s failed: %s'):format(where, err))
    end
    if not argv or vim.fn.executable(argv[1]) ~= 1 then
      health.info('doctor not run: no running server, and the server command cannot be run from here')
      return
    end
    where = 'ran ' .. table.concat(argv, ' ')
    answer, err = run_doctor_command(argv)
    if not answer then
      health.error(('%s: no report (%s)'):format(where, err), { 'run it in a terminal to see why' })
      return
    end
  end
  health.info(where)
  M.report_doctor(answer)
end

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

  local settings = tandem.config and opts.settings or vim.tbl_get(enabled and vim.lsp.config.tandem or {}, 'settings', 'tandem')
  doctor(clients, cmd, settings)

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
