-- :checkhealth tandem runs the doctor: `tandem-lsp doctor` as a command while
-- no server runs (a stand-in script here), the server's `tandem/doctor` once
-- one does. :TandemSelectModel lists the server's `tandem/models` in a stubbed
-- vim.ui.select, picks one, and sends the whole settings table with the new
-- completionModel.path; a later settings update keeps it.
local H = dofile(os.getenv('TANDEM_HELPERS'))
local F = dofile(vim.fs.dirname(os.getenv('TANDEM_HELPERS')) .. '/fake_server.lua')
vim.opt.runtimepath:prepend(os.getenv('TANDEM_PLUGIN'))
vim.cmd.runtime('plugin/tandem.lua')

local r = H.result
r.notes = {}
vim.notify = function(msg)
  table.insert(r.notes, msg)
end

local MODELS = {
  { name = 'old.gguf', path = '/models/old.gguf', source = 'folder', quantization = 'Q8_0', sizeLabel = '0.5B', hasFim = true, fileSize = 531000000, error = '' },
  { name = 'coder/qwen-fim.gguf', path = '/models/coder/qwen-fim.gguf', source = 'tandem', quantization = 'Q4_K_M', hasFim = true, fileSize = 1100000000, error = '' },
  { name = 'broken.gguf', path = '/models/broken.gguf', source = 'folder', error = 'not a GGUF file' },
}
local SERVER_DOCTOR = {
  ok = false,
  checks = {
    { section = 'completion model', name = 'file', status = 'fail', detail = 'server says: /models/gone.gguf does not exist', fix = 'pick one with :TandemSelectModel' },
    { section = 'llama.cpp', name = 'version', status = 'ok', detail = 'llama-cpp-python 0.3', fix = '' },
  },
  report = '',
}
local SETTINGS = { completion = { maxTokens = 16 }, completionModel = { path = '/models/old.gguf', threads = 2 } }

-- A stand-in for the tandem-lsp executable: records its arguments, prints a doctor report.
local cli = vim.fn.getcwd() .. '/fake-tandem-lsp'
local cli_args = vim.fn.getcwd() .. '/cli-args.txt'
local report = vim.json.encode({
  ok = false,
  checks = {
    { section = 'completion model', name = 'file', status = 'fail', detail = 'cli says: /models/old.gguf is unreadable', fix = 'check the file' },
    { section = 'memory', name = 'estimate', status = 'warn', detail = 'cli says: tight on memory', fix = '' },
  },
})
local script = assert(io.open(cli, 'w'))
script:write(('#!/bin/sh\necho "$@" > %s\ncat <<\'EOF\'\n%s\nEOF\nexit 1\n'):format(vim.fn.shellescape(cli_args), report))
script:close()
vim.fn.setfperm(cli, 'rwxr-xr-x')

local function health()
  vim.cmd('checkhealth tandem')
  local text = table.concat(H.lines(0), '\n')
  vim.cmd('bwipeout!')
  return text
end

-- Neovim itself sends the settings once after initialize: count from before each step.
local sent_before = 0
local function sent_since()
  return #F.configurations > sent_before and F.configurations[#F.configurations] or nil
end

local buf
H.run({
  { name = 'health_without_server', run = function()
      require('tandem').setup({ cmd = { cli, 'serve' }, filetypes = { 'python' }, settings = SETTINGS })
      r.health_cli = health()
      local f = io.open(cli_args)
      r.cli_args = f and vim.trim(f:read('*a')) or vim.NIL
      if f then
        f:close()
      end
    end },
  { name = 'start', run = function()
      require('tandem').setup({
        cmd = F.cmd({ anchor = '', suggestion = 'pass', alternative = 'pass', models = MODELS, doctor = SERVER_DOCTOR }),
        filetypes = { 'python' },
        settings = SETTINGS,
      })
      vim.cmd.edit(os.getenv('TANDEM_FILE'))
      buf = vim.api.nvim_get_current_buf()
    end,
    wait = H.client_ready(function() return buf end), timeout_ms = 10000 },
  { name = 'select', run = function()
      sent_before = #F.configurations
      vim.ui.select = function(items, opts, on_choice)
        r.select = { prompt = opts.prompt, kind = opts.kind, items = vim.tbl_map(opts.format_item, items) }
        on_choice(items[2])
      end
      vim.cmd('TandemSelectModel')
    end,
    wait = sent_since },
  { name = 'later_update', run = function()
      r.models_request = F.requests[1]
      r.after_select = sent_since()
      r.plugin_settings = require('tandem').config.settings
      sent_before = #F.configurations
      require('tandem').update_settings({ completion = { maxTokens = 32 } })
    end,
    wait = sent_since },
  { name = 'health_with_server', run = function()
      r.after_update = sent_since()
      r.health_server = health()
      r.requests = vim.tbl_map(function(req) return req.method end, F.requests)
    end },
}, 30000)
