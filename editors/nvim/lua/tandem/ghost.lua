-- Ghost text for Neovim 0.10 / 0.11, which have no built-in inline completion:
-- asks the server for textDocument/inlineCompletion while typing (debounced,
-- stale requests cancelled), draws the suggestion with an extmark, accepts
-- all of it, the next word or the next line, and cycles through the candidates.
local compat = require('tandem.compat')
local text_util = require('tandem.text')

local M = {}

M.ns = vim.api.nvim_create_namespace('tandem_ghost')

local opts = { debounce_ms = 75, hl_group = 'TandemGhostText' }
-- Per buffer: { ghost = {row, col, text, suffix_len, tick, command, client_id, index},
--   candidates = {row, col, items = { {text, suffix_len, command, client_id} }}, timer, cancel, seq }
-- `candidates` are the server's items as answered at (row, col); `ghost` is the one shown,
-- less what has been typed or accepted since.
local buffers = {}

local function buf_state(bufnr)
  buffers[bufnr] = buffers[bufnr] or { seq = 0 }
  return buffers[bufnr]
end

local function cursor()
  local pos = vim.api.nvim_win_get_cursor(0)
  return pos[1] - 1, pos[2]
end

local function in_insert_mode()
  local mode = vim.api.nvim_get_mode().mode
  return mode:sub(1, 1) == 'i' or mode:sub(1, 1) == 'R'
end

local function get_line(bufnr, row)
  return vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
end

-- Virtual text shows a tab as one cell; expand it so the ghost lines up.
local function expand_tabs(text, bufnr)
  return (text:gsub('\t', string.rep(' ', vim.bo[bufnr].tabstop)))
end

local function render(bufnr)
  local st = buf_state(bufnr)
  local g = st.ghost
  vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  if not g then
    return
  end
  local lines = vim.split(g.text, '\n', { plain = true })
  local mark = { hl_mode = 'combine', priority = 200 }
  if lines[1] ~= '' then
    mark.virt_text = { { expand_tabs(lines[1], bufnr), opts.hl_group } }
    mark.virt_text_pos = 'inline'
  end
  if #lines > 1 then
    mark.virt_lines = {}
    for i = 2, #lines do
      table.insert(mark.virt_lines, { { expand_tabs(lines[i], bufnr), opts.hl_group } })
    end
  end
  g.extmark = vim.api.nvim_buf_set_extmark(bufnr, M.ns, g.row, g.col, mark)
end

local function cancel_pending(st)
  if st.cancel then
    pcall(st.cancel)
    st.cancel = nil
  end
end

--- Remove the visible suggestion and forget any request in flight.
function M.clear(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local st = buffers[bufnr]
  if not st then
    return
  end
  st.seq = st.seq + 1
  cancel_pending(st)
  if st.timer then
    st.timer:stop()
  end
  st.ghost = nil
  st.candidates = nil
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
end

function M.visible(bufnr)
  local st = buffers[bufnr or vim.api.nvim_get_current_buf()]
  return st ~= nil and st.ghost ~= nil
end

--- The suggestion text still to be inserted (for tests and statuslines).
function M.text(bufnr)
  local st = buffers[bufnr or vim.api.nvim_get_current_buf()]
  return st and st.ghost and st.ghost.text or nil
end

-- Show the first candidate from `index` on, stepping by `dir` (1 or -1), that
-- still fits what was typed since the candidates arrived. False if none does.
local function pick(bufnr, index, dir)
  local st = buf_state(bufnr)
  local c = st.candidates
  local typed = c and text_util.typed_since(bufnr, c.row, c.col)
  if not typed then
    return false
  end
  local n = #c.items
  for step = 0, n - 1 do
    local i = (index - 1 + step * dir) % n + 1
    local item = c.items[i]
    if #item.text > #typed and item.text:sub(1, #typed) == typed then
      local row, col = cursor()
      st.ghost = {
        row = row,
        col = col,
        text = item.text:sub(#typed + 1),
        suffix_len = item.suffix_len or 0,
        command = item.command,
        client_id = item.client_id,
        index = i,
        tick = vim.api.nvim_buf_get_changedtick(bufnr),
      }
      render(bufnr)
      return true
    end
  end
  return false
end

--- Show candidates at the cursor, the first one visible. Each item is
--- { text, suffix_len (bytes after the cursor that a full accept replaces), command, client_id }.
function M.show_items(bufnr, items)
  local st = buf_state(bufnr)
  local row, col = cursor()
  st.candidates = { row = row, col = col, items = items }
  return pick(bufnr, 1, 1)
end

--- Show `text` as the only suggestion at the cursor; `extra` as an item of show_items.
function M.show(bufnr, text, extra)
  return M.show_items(bufnr, { vim.tbl_extend('force', extra or {}, { text = text }) })
end

--- Show the next (count > 0) or previous (count < 0) candidate. False if none is visible.
function M.select(bufnr, count)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local st = buffers[bufnr]
  if not (st and st.ghost and st.candidates) then
    return false
  end
  local dir = count < 0 and -1 or 1
  return pick(bufnr, (st.ghost.index - 1 + count) % #st.candidates.items + 1, dir)
end

-- Turns one InlineCompletionItem into the text left to insert at the cursor,
-- or nil when it cannot be shown as ghost text here.
local function from_item(bufnr, client, item, row, col)
  local insert = item.insertText
  if type(insert) == 'table' then
    insert = insert.value
  end
  if type(insert) ~= 'string' or insert == '' then
    return nil
  end
  local suffix_len = 0
  if item.range then
    local line = get_line(bufnr, row)
    local start, stop = item.range.start, item.range['end']
    if start.line ~= row then
      return nil
    end
    local start_col = compat.byte_col(line, start.character, client.offset_encoding)
    local typed = line:sub(start_col + 1, col)
    if start_col > col or insert:sub(1, #typed) ~= typed then
      return nil
    end
    insert = insert:sub(#typed + 1)
    if stop.line == row then
      suffix_len = math.max(0, compat.byte_col(line, stop.character, client.offset_encoding) - col)
    end
  end
  if insert == '' then
    return nil
  end
  return insert, suffix_len
end

--- Ask the server for a suggestion at the cursor now.
function M.request(bufnr, trigger_kind)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local st = buf_state(bufnr)
  local client = compat.client(bufnr)
  if not client or not in_insert_mode() or bufnr ~= vim.api.nvim_get_current_buf() then
    return
  end
  cancel_pending(st)
  st.seq = st.seq + 1
  local seq, tick = st.seq, vim.api.nvim_buf_get_changedtick(bufnr)
  local row, col = cursor()
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = trigger_kind or 2 }
  st.cancel = compat.request(client, 'textDocument/inlineCompletion', params, function(err, result)
    if seq ~= st.seq then
      return -- a newer request or a dismissal superseded this one
    end
    st.cancel = nil
    if err or type(result) ~= 'table' or bufnr ~= vim.api.nvim_get_current_buf() then
      return
    end
    local now_row, now_col = cursor()
    if vim.api.nvim_buf_get_changedtick(bufnr) ~= tick or now_row ~= row or now_col ~= col or not in_insert_mode() then
      return
    end
    local items = {}
    for _, item in ipairs(result.items or result) do
      local text, suffix_len = from_item(bufnr, client, item, row, col)
      if text then
        table.insert(items, { text = text, suffix_len = suffix_len, command = item.command, client_id = client.id })
      end
    end
    if #items > 0 then
      M.show_items(bufnr, items)
    end
  end, bufnr)
end

local function schedule_request(bufnr)
  local st = buf_state(bufnr)
  st.timer = st.timer or compat.uv.new_timer()
  st.timer:stop()
  st.timer:start(opts.debounce_ms, 0, vim.schedule_wrap(function()
    if vim.api.nvim_buf_is_valid(bufnr) then
      M.request(bufnr)
    end
  end))
end

-- Typing the suggestion's next characters keeps it (shortened) without a new request;
-- anything else dismisses it and asks again after the debounce.
function M.on_change(bufnr)
  if M.enabled == false then
    return
  end
  local st = buf_state(bufnr)
  local g = st.ghost
  local row, col = cursor()
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  if g then
    if tick == g.tick and row == g.row and col == g.col then
      return
    end
    if row == g.row and col > g.col then
      local typed = get_line(bufnr, row):sub(g.col + 1, col)
      if g.text:sub(1, #typed) == typed then
        g.col, g.tick, g.text = col, tick, g.text:sub(#typed + 1)
        if g.text == '' then
          M.clear(bufnr)
        else
          render(bufnr)
        end
        return
      end
    end
    M.clear(bufnr)
  end
  -- The text moved on: whatever is in flight answers an old question.
  st.seq = st.seq + 1
  cancel_pending(st)
  schedule_request(bufnr)
end

local function run_command(g, bufnr)
  local client = g.client_id and vim.lsp.get_client_by_id(g.client_id)
  if client and g.command then
    compat.request(client, 'workspace/executeCommand', {
      command = g.command.command,
      arguments = g.command.arguments,
    }, function() end, bufnr)
  end
end

--- Insert the suggestion: how = 'all' (default), 'word' or 'line'. Returns false if none is visible.
function M.accept(bufnr, how)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local st = buffers[bufnr]
  local g = st and st.ghost
  if not g then
    return false
  end
  local part = text_util.part(g.text, how)
  local whole = #part == #g.text
  local end_col = g.col + (whole and g.suffix_len or 0)
  local new_row, new_col = text_util.insert(bufnr, g.row, g.col, end_col, part)
  if whole then
    M.clear(bufnr)
    run_command(g, bufnr)
  else
    g.row, g.col, g.text = new_row, new_col, g.text:sub(#part + 1)
    g.tick = vim.api.nvim_buf_get_changedtick(bufnr)
    render(bufnr)
  end
  return true
end

--- Start watching a buffer.
function M.attach(bufnr, config)
  opts.debounce_ms = config.debounce_ms or opts.debounce_ms
  opts.hl_group = config.hl_group or opts.hl_group
  local group = vim.api.nvim_create_augroup('tandem_ghost_' .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ 'TextChangedI', 'CursorMovedI' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.on_change(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd({ 'InsertLeave', 'BufLeave' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.clear(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd({ 'BufUnload', 'LspDetach' }, {
    group = group,
    buffer = bufnr,
    callback = function(args)
      local detaching = args.data and vim.lsp.get_client_by_id(args.data.client_id)
      if args.event == 'LspDetach' and not (detaching and detaching.name == 'tandem') then
        return
      end
      M.clear(bufnr)
      local st = buffers[bufnr]
      if st and st.timer then
        st.timer:close()
      end
      buffers[bufnr] = nil
      pcall(vim.api.nvim_del_augroup_by_id, group)
    end,
  })
end

--- Hide the suggestion (the dismiss key).
M.dismiss = M.clear

--- Ask now (the trigger key).
function M.trigger(bufnr)
  M.request(bufnr, 1)
end

return M
