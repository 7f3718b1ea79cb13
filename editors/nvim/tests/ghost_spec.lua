-- Ghost text without a server: show a suggestion, type into it, accept a
-- word, a line, the rest; then check the keys fall back when nothing is shown.
local H = dofile(os.getenv('TANDEM_HELPERS'))
vim.opt.runtimepath:prepend(os.getenv('TANDEM_PLUGIN'))

-- A user mapping that tandem's dismiss key must fall back to.
vim.keymap.set('i', '<C-]>', function()
  vim.g.user_mapping_ran = true
end)

local tandem = require('tandem')
local ghost = require('tandem.ghost')
-- native = false: this spec is about the plugin's own ghost text, also on Neovim 0.12+.
tandem.setup({ filetypes = {}, inline = { native = false } })

vim.cmd('enew')
local buf = vim.api.nvim_get_current_buf()
vim.bo[buf].filetype = 'python'
vim.bo[buf].expandtab = true
vim.bo[buf].shiftwidth = 4
vim.bo[buf].softtabstop = 4
vim.api.nvim_buf_set_lines(buf, 0, -1, false, { 'def inc(x):', '    ret' })
tandem.attach(buf)

local r = H.result
H.run({
  { name = 'insert', run = function() vim.api.nvim_input('GA') end,
    wait = function() return vim.api.nvim_get_mode().mode == 'i' end },
  { name = 'show', run = function() ghost.show(buf, 'urn x + 1\nprint(inc(1))') end,
    wait = function()
      r.shown, r.shown_row, r.shown_col = H.ghost_text(buf, ghost.ns)
      return r.shown ~= nil
    end },
  { name = 'type_into', run = function() vim.api.nvim_input('ur') end,
    wait = function() return H.lines(buf)[2] == '    retur' end },
  { name = 'after_typing', wait = function()
      r.after_typing = H.ghost_text(buf, ghost.ns)
      r.after_typing_state = ghost.text(buf)
      return true
    end },
  { name = 'word', run = function() vim.api.nvim_input('<M-Right>') end,
    wait = function() return H.lines(buf)[2] == '    return' end },
  { name = 'after_word', wait = function() r.after_word = ghost.text(buf); return true end },
  { name = 'line', run = function() vim.api.nvim_input('<M-C-Right>') end,
    wait = function() return H.lines(buf)[2] == '    return x + 1' end },
  { name = 'after_line', wait = function() r.after_line = ghost.text(buf); return true end },
  { name = 'all', run = function() vim.api.nvim_input('<Tab>') end,
    wait = function() return #H.lines(buf) == 3 end },
  { name = 'after_all', wait = function()
      r.after_all_lines = H.lines(buf)
      r.after_all_cursor = vim.api.nvim_win_get_cursor(0)
      r.after_all_ghost = ghost.text(buf) or vim.NIL
      r.after_all_marks = #vim.api.nvim_buf_get_extmarks(buf, ghost.ns, 0, -1, {})
      return true
    end },
  { name = 'tab_fallback', run = function() vim.api.nvim_input('<Tab>') end,
    wait = function() return H.lines(buf)[3] ~= 'print(inc(1))' end },
  { name = 'after_tab', wait = function() r.after_tab_line = H.lines(buf)[3]; return true end },
  { name = 'user_mapping_fallback', run = function() vim.api.nvim_input('<C-]>') end,
    wait = function() return vim.g.user_mapping_ran == true end },
  -- A global mapping made after tandem attached (a lazily loaded completion plugin) still runs.
  { name = 'late_mapping_fallback', run = function()
      vim.keymap.set('i', '<M-Right>', function() vim.g.late_mapping_ran = true end)
      vim.api.nvim_input('<M-Right>')
    end,
    wait = function() return vim.g.late_mapping_ran == true end },
  { name = 'show_again', run = function() ghost.show(buf, 'pass') end,
    wait = function() return ghost.visible(buf) end },
  { name = 'escape', run = function() vim.api.nvim_input('<Esc>') end,
    wait = function() return vim.api.nvim_get_mode().mode == 'n' end },
  { name = 'after_escape', wait = function()
      r.after_escape_visible = ghost.visible(buf)
      r.after_escape_marks = #vim.api.nvim_buf_get_extmarks(buf, ghost.ns, 0, -1, {})
      r.final_lines = H.lines(buf)
      return true
    end },
  { name = 'report', run = function()
      local report = require('tandem.report')
      local win = vim.api.nvim_get_current_win()
      local rb = report.show('Tandem review', {
        findings = { { message = 'x may be None', severity = 'warning', range = { start = { line = 4 } }, replacement = 'return (x or 0) + 1' } },
      })
      r.report_lines = H.lines(rb)
      r.report_ft = vim.bo[rb].filetype
      r.report_in_window = vim.fn.bufwinid(rb) ~= -1
      r.focus_kept = vim.api.nvim_get_current_win() == win
      r.debug_md = report.render('Tandem debugging', { explanation = 'b can be zero', diff = '-x\n+y\n' })
      r.stats_summary = require('tandem.commands').summarize({ completion = { requests = 4, accepted = 1, p50Ms = 80.4, p95Ms = 200, cacheHitRate = 0.5 } })
    end },
  { name = 'health', run = function()
      vim.cmd('checkhealth tandem')
      r.health = table.concat(H.lines(0), '\n')
    end },
}, 15000)
