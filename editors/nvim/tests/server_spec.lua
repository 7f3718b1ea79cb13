-- The plugin against the real tandem-lsp: open a Python file, type, wait for
-- the server's ghost text, accept it with <Tab>, then check the server heard
-- of the acceptance (stats) and that :TandemToggle's command answers.
local H = dofile(os.getenv('TANDEM_HELPERS'))
vim.opt.runtimepath:prepend(os.getenv('TANDEM_PLUGIN'))

local tandem = require('tandem')
local ghost = require('tandem.ghost')
local commands = require('tandem.commands')

tandem.setup({
  cmd = vim.json.decode(os.getenv('TANDEM_CMD')),
  -- One thread: on a busy 2-core CI box llama.cpp's threads otherwise wait on each other.
  -- Short answers keep review/explain/debug with the tiny model to a second or two.
  settings = { completionModel = { threads = 1 }, completion = { maxTokens = 24 }, review = { maxTokens = 48 }, index = { enabled = false } },
  inline = { debounce_ms = 30 },
})
vim.cmd.edit(os.getenv('TANDEM_FILE'))
local buf = vim.api.nvim_get_current_buf()

local r = H.result
r.notes = {}
vim.notify = function(msg)
  table.insert(r.notes, msg)
end
r.native = tandem.is_native()
r.version = tostring(vim.version())
-- Neovim 0.12+ draws the suggestion itself (vim.lsp.inline_completion); older ones use ours.
local function report_lines(name)
  local b = vim.fn.bufnr('tandem://' .. name)
  return b ~= -1 and H.lines(b) or nil
end

local function ghost_ns()
  return r.native and vim.api.nvim_get_namespaces()['nvim.lsp.inline_completion'] or ghost.ns
end
local stats_answer, toggle_answer
local last_trigger = vim.uv.now()

H.run({
  { name = 'attach', timeout_ms = 30000,
    wait = H.client_ready(buf, function(client)
      r.root_dir = client.root_dir or vim.NIL
      r.markers = tandem.config.root_markers
    end) },
  { name = 'type', run = function() vim.api.nvim_input('GA a +') end,
    wait = function() return vim.api.nvim_get_mode().mode == 'i' and H.lines(buf)[#H.lines(buf)] == '    return a +' end },
  -- Typing requests a suggestion; ask again by key now and then in case the
  -- model answered nothing (asking cancels the request in flight, so not too often).
  { name = 'ghost', timeout_ms = 40000,
    wait = function()
      local ns = ghost_ns()
      local text, row, col
      if ns then
        text, row, col = H.ghost_text(buf, ns)
      end
      if text and text ~= '' then
        r.ghost, r.ghost_row, r.ghost_col = text, row, col
        r.before_lines = H.lines(buf)
        r.before_cursor = vim.api.nvim_win_get_cursor(0)
        r.state_text = ghost.text(buf)
        return true
      end
      if not r.native and vim.uv.now() - last_trigger > 10000 then
        last_trigger = vim.uv.now()
        vim.api.nvim_input('<M-\\>')
      end
      return false
    end },
  { name = 'accept', run = function() vim.api.nvim_input('<Tab>') end,
    wait = function() return not vim.deep_equal(H.lines(buf), r.before_lines) end },
  { name = 'after_accept', wait = function()
      r.after_lines = H.lines(buf)
      r.after_cursor = vim.api.nvim_win_get_cursor(0)
      return true
    end },
  { name = 'stats', timeout_ms = 10000,
    run = function()
      commands.stats(function(err, stats) stats_answer = { err = err, stats = stats } end)
    end,
    wait = function()
      if not stats_answer then return false end
      local c = stats_answer.stats and stats_answer.stats.completion
      if c and (c.accepted or 0) >= 1 then
        r.stats = stats_answer.stats
        r.summary = commands.summarize(stats_answer.stats)
        return true
      end
      stats_answer = nil -- the accept notice may still be on its way; ask again
      commands.stats(function(err, stats) stats_answer = { err = err, stats = stats } end)
      return false
    end },
  { name = 'explain', timeout_ms = 30000, run = function() vim.cmd('1,3TandemExplain') end,
    wait = function()
      r.explain = report_lines('tandem-explanation')
      return r.explain ~= nil
    end },
  { name = 'review', timeout_ms = 30000, run = function() vim.cmd('TandemReview') end,
    wait = function()
      r.review = report_lines('tandem-review')
      return r.review ~= nil
    end },
  { name = 'debug', timeout_ms = 30000, run = function() vim.cmd('TandemDebug TypeError: unsupported operand type(s) for +') end,
    wait = function()
      r.debug = report_lines('tandem-debugging')
      return r.debug ~= nil
    end },
  { name = 'stats_command', run = function() vim.cmd('TandemStats') end,
    wait = function()
      return vim.iter(r.notes):any(function(n) return n:find('accepted', 1, true) ~= nil end)
    end },
  { name = 'toggle', run = function() vim.cmd('TandemToggle off') end,
    wait = function()
      return vim.tbl_contains(r.notes, 'tandem: inline completion off')
    end },
  { name = 'toggled', wait = function()
      r.ghost_enabled = ghost.enabled
      return true
    end },
  { name = 'status', wait = function()
      r.statusline = tandem.statusline()
      return true
    end },
}, 80000)
