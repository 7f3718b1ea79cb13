-- What a partial accept takes from a suggestion, and inserting it at the
-- cursor. Shared by the plugin's ghost text (0.10/0.11) and the built-in
-- inline completion path (0.12+), so both accept the same word and line.
local M = {}

local function next_word(text)
  if text:sub(1, 1) == '\n' then
    return text:match('^\n[ \t]*')
  end
  return text:match('^[ \t]*[%w_]+') or text:match('^[ \t]*[^%w_%s]+') or text:match('^[ \t]+') or text:sub(1, 1)
end

local function next_line(text)
  if text:sub(1, 1) == '\n' then
    return text:match('^\n[^\n]*')
  end
  return text:match('^[^\n]*')
end

--- The start of `text` that accepting `how` inserts: 'word', 'line' or 'all'.
function M.part(text, how)
  if how == 'word' then
    return next_word(text)
  elseif how == 'line' then
    return next_line(text)
  end
  return text
end

--- Replace bytes col..end_col of `row` with `text` (may hold newlines) and put
--- the cursor of the current window after it. Returns the new row and col (0-based).
function M.insert(bufnr, row, col, end_col, text)
  local lines = vim.split(text, '\n', { plain = true })
  vim.api.nvim_buf_set_text(bufnr, row, col, row, end_col, lines)
  local new_row = row + #lines - 1
  local new_col = #lines == 1 and col + #text or #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { new_row + 1, new_col })
  return new_row, new_col
end

--- The buffer text from (row, col) to the cursor, or nil when the cursor is before it.
function M.typed_since(bufnr, row, col)
  local pos = vim.api.nvim_win_get_cursor(0)
  local cur_row, cur_col = pos[1] - 1, pos[2]
  if cur_row < row or (cur_row == row and cur_col < col) then
    return nil
  end
  local ok, lines = pcall(vim.api.nvim_buf_get_text, bufnr, row, col, cur_row, cur_col, {})
  return ok and table.concat(lines, '\n') or nil
end

return M
