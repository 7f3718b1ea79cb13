-- The suggestion keys against an in-process fake server (fake_server.lua), the
-- same on both paths: Neovim 0.12+'s built-in inline completion and the
-- plugin's ghost text (0.10/0.11). Next/previous candidate, accept word, accept
-- line, dismiss, accept all; only the full accept runs the item's command.
-- Also: a file with no root marker above it gets a server without a root.
local H = dofile(os.getenv('TANDEM_HELPERS'))
local F = dofile(vim.fs.dirname(os.getenv('TANDEM_HELPERS')) .. '/fake_server.lua')
vim.opt.runtimepath:prepend(os.getenv('TANDEM_PLUGIN'))

local ANCHOR = 'x = 1\n'
local SUGGESTION = 'total = add(1, 2)\nprint(total)'
local ALTERNATIVE = 'pass  # other'

local tandem = require('tandem')
local ghost = require('tandem.ghost')
tandem.setup({
  cmd = F.cmd({ anchor = ANCHOR, suggestion = SUGGESTION, alternative = ALTERNATIVE }),
  filetypes = { 'python' },
  inline = { debounce_ms = 30 },
})
vim.cmd.edit(os.getenv('TANDEM_FILE'))
local buf = vim.api.nvim_get_current_buf()

local r = H.result
r.native = tandem.is_native()
r.version = tostring(vim.version())
r.markers = tandem.config.root_markers

local function shown()
  local ns = r.native and vim.api.nvim_get_namespaces()['nvim.lsp.inline_completion'] or ghost.ns
  return ns and H.ghost_text(buf, ns) or nil
end

-- Waits until `text` is shown (as the start of what is shown: 0.12 adds " (i/n)"
-- after a candidate switch) and no other answer is on its way.
local function showing(text)
  return F.settled(function()
    local s = shown()
    return s ~= nil and s:sub(1, #text) == text
  end)
end

local function keys(name, lhs, wait, record)
  return {
    name = name,
    run = function()
      vim.api.nvim_input(lhs)
    end,
    wait = function()
      if not wait() then
        return false
      end
      r[name] = { shown = shown() or vim.NIL, lines = H.lines(buf), commands = #F.commands }
      return true
    end,
    timeout_ms = 10000,
  }
end

H.run({
  { name = 'attach', timeout_ms = 10000,
    wait = H.client_ready(buf, function(client)
      r.root_dir = client.root_dir or vim.NIL
      r.workspace_folders = client.workspace_folders or vim.NIL
      r.initialize = F.initialize[1]
    end) },
  { name = 'insert', run = function() vim.api.nvim_input('GA') end,
    wait = function() return vim.api.nvim_get_mode().mode == 'i' end },
  -- The built-in asks on entering insert mode; the ghost text path on its key.
  { name = 'ask', run = function()
      if not r.native then
        vim.api.nvim_input('<M-\\>')
      end
    end,
    wait = showing(SUGGESTION), timeout_ms = 10000 },
  keys('next', '<M-]>', showing(ALTERNATIVE)),
  keys('prev', '<M-[>', showing(SUGGESTION)),
  keys('word', '<M-Right>', showing(' = add(1, 2)\nprint(total)')),
  keys('line', '<M-C-Right>', showing('\nprint(total)')),
  keys('dismiss', '<C-]>', function() return shown() == nil end),
  -- Moving the cursor asks again (two steps: keys typed at once move it nowhere).
  { name = 'left', run = function() vim.api.nvim_input('<Left>') end,
    wait = function() return vim.api.nvim_win_get_cursor(0)[2] == #'total = add(1, 2)' - 1 end },
  keys('again', '<Right>', showing('\nprint(total)')),
  keys('all', '<Tab>', function() return #H.lines(buf) == 3 and #F.commands > 0 end),
  { name = 'after_all', wait = function()
      r.after_all_cursor = vim.api.nvim_win_get_cursor(0)
      r.commands = F.commands
      return true
    end },
}, 40000)
