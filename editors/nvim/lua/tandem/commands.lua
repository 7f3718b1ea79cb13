-- :TandemReview, :TandemExplain, :TandemDebug, :TandemStats, :TandemToggle,
-- :TandemSelectModel. Each forwards to the server and shows the answer.
local compat = require('tandem.compat')
local report = require('tandem.report')

local M = {}

local function server(bufnr)
  local client = compat.client(bufnr) or compat.client(nil)
  if not client then
    vim.notify('tandem: the server is not running (see :checkhealth tandem)', vim.log.levels.WARN)
  end
  return client
end

--- workspace/executeCommand on the tandem server; callback(err, result).
function M.execute(command, arguments, callback, bufnr)
  local client = server(bufnr)
  if not client then
    return
  end
  compat.request(client, 'workspace/executeCommand', { command = command, arguments = arguments }, function(err, result)
    if err then
      vim.notify(('tandem: %s failed: %s'):format(command, err.message or vim.inspect(err)), vim.log.levels.ERROR)
    end
    if callback then
      callback(err, result)
    end
  end, bufnr)
end

--- The server's stats object (latency percentiles, cache hit rate, ...); callback(err, stats).
function M.stats(callback)
  local client = server(nil)
  if client then
    compat.request(client, 'tandem/stats', vim.empty_dict(), callback)
  end
end

-- A whole-line LSP range for :[range] commands (line ends need no encoding).
local function line_range(opts)
  return {
    start = { line = opts.line1 - 1, character = 0 },
    ['end'] = { line = opts.line2, character = 0 },
  }
end

local function target(opts, always_range)
  local bufnr = vim.api.nvim_get_current_buf()
  local args = { uri = vim.uri_from_bufnr(bufnr) }
  if opts.range > 0 or always_range then
    args.range = line_range(opts)
  end
  return args, bufnr
end

local function summarize(stats)
  if type(stats) ~= 'table' then
    return 'no stats yet'
  end
  -- The server nests completion figures under `completion`; accept a flat table too.
  if type(stats.completion) == 'table' then
    stats = stats.completion
  end
  local parts = {}
  local function add(fmt, ...)
    for _, key in ipairs({ ... }) do
      if type(stats[key]) == 'number' then
        table.insert(parts, fmt:format(stats[key]))
        return
      end
    end
  end
  add('%d requests', 'requests', 'completions', 'count')
  add('%d accepted', 'accepted')
  add('p50 %.0f ms', 'p50Ms', 'p50', 'latencyP50Ms')
  add('p95 %.0f ms', 'p95Ms', 'p95', 'latencyP95Ms')
  if type(stats.cacheHitRate) == 'number' then
    table.insert(parts, ('cache hits %.0f%%'):format(stats.cacheHitRate * 100))
  end
  return #parts > 0 and table.concat(parts, ', ') or vim.inspect(stats)
end

-- The user commands (defined by tandem.bootstrap) call these with their opts.

function M.review(opts)
  local args, bufnr = target(opts, false)
  args.deep = opts.bang or nil
  local title = opts.bang and 'Tandem deep review' or 'Tandem review'
  vim.notify('tandem: reviewing…')
  M.execute('tandem.review', { args }, function(err, result)
    if err then
      return
    end
    report.show(title, result)
    if type(result) == 'table' and type(result.findings) == 'number' then
      vim.notify(('tandem: %d finding(s); quick fixes via vim.lsp.buf.code_action()'):format(result.findings))
    end
  end, bufnr)
end

function M.explain(opts)
  local args, bufnr = target(opts, true)
  M.execute('tandem.explain', { args }, function(err, result)
    if not err then
      report.show('Tandem explanation', result)
    end
  end, bufnr)
end

function M.debug(opts)
  local args, bufnr = target(opts, false)
  local function send(error_text)
    if not error_text or error_text == '' then
      return
    end
    args.errorText = error_text
    vim.notify('tandem: debugging…')
    M.execute('tandem.debug', { args }, function(err, result)
      if err then
        return
      end
      report.show('Tandem debugging', result)
      M.last_fix = type(result) == 'table' and type(result.edit) == 'table' and result.edit or nil
      if M.last_fix then
        vim.notify('tandem: a fix is ready; :TandemApplyFix applies it')
      end
    end, bufnr)
  end
  if opts.args ~= '' then
    send(opts.args)
  else
    vim.ui.input({ prompt = 'Error text: ' }, send)
  end
end

function M.apply_fix()
  local client = server(nil)
  if not M.last_fix or not client then
    vim.notify('tandem: no fix to apply (run :TandemDebug first)', vim.log.levels.WARN)
    return
  end
  vim.lsp.util.apply_workspace_edit(M.last_fix, client.offset_encoding)
  M.last_fix = nil
end

function M.stats_command()
  M.stats(function(err, stats)
    if err then
      vim.notify('tandem: stats failed: ' .. (err.message or ''), vim.log.levels.ERROR)
      return
    end
    vim.notify('tandem: ' .. summarize(stats))
  end)
end

function M.toggle(opts)
  local arg = opts.args ~= '' and { enabled = opts.args == 'on' } or vim.empty_dict()
  M.execute('tandem.toggle', { arg }, function(err, result)
    if err or type(result) ~= 'table' then
      return
    end
    require('tandem.ghost').enabled = result.enabled
    if result.enabled == false then
      require('tandem.ghost').clear()
    end
    vim.notify('tandem: inline completion ' .. (result.enabled and 'on' or 'off'))
  end)
end

function M.select_model(opts)
  require('tandem.models').select(opts)
end

--- Define the user commands (once; plugin/tandem.lua may have done it already).
function M.register()
  require('tandem.bootstrap').commands()
end

M.summarize = summarize

return M
