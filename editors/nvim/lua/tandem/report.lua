-- Shows a server command's answer (text or findings) as Markdown in a scratch split.
local M = {}

local TEXT_FIELDS = { 'markdown', 'text', 'explanation', 'answer', 'content', 'message' }

local function finding_line(f)
  if type(f) ~= 'table' then
    return '- ' .. tostring(f)
  end
  local line = f.line
  if type(f.range) == 'table' and type(f.range.start) == 'table' and type(f.range.start.line) == 'number' then
    line = f.range.start.line + 1
  end
  local head = {}
  if type(f.severity) == 'string' then
    table.insert(head, f.severity)
  end
  if type(line) == 'number' then
    table.insert(head, 'line ' .. line)
  end
  local out = '- ' .. (#head > 0 and ('**' .. table.concat(head, ', ') .. '**: ') or '') .. tostring(f.message or vim.inspect(f))
  local fix = type(f.fix) == 'string' and f.fix or (type(f.replacement) == 'string' and f.replacement or '')
  if fix ~= '' then
    out = out .. '\n  - fix: `' .. fix:gsub('\n', ' ') .. '`'
  end
  return out
end

local function findings(list)
  if #list == 0 then
    return '_No findings._'
  end
  local out = {}
  for _, f in ipairs(list) do
    table.insert(out, finding_line(f))
  end
  return table.concat(out, '\n')
end

--- Markdown text for `result`.
function M.render(title, result)
  local body
  if result == nil or result == vim.NIL then
    body = '_No answer from the server._'
  elseif type(result) == 'string' then
    body = result
  elseif type(result) == 'table' and vim.islist(result) then
    body = findings(result)
  elseif type(result) == 'table' then
    local parts = {}
    for _, field in ipairs(TEXT_FIELDS) do
      if type(result[field]) == 'string' then
        table.insert(parts, result[field])
        break
      end
    end
    if type(result.findings) == 'table' then
      table.insert(parts, findings(result.findings))
    end
    if type(result.diff) == 'string' and result.diff:match('%S') then
      table.insert(parts, '```diff\n' .. result.diff:gsub('\n$', '') .. '\n```')
    end
    body = #parts > 0 and table.concat(parts, '\n\n') or ('```json\n' .. vim.json.encode(result) .. '\n```')
  else
    body = tostring(result)
  end
  return '# ' .. title .. '\n\n' .. body
end

--- Open (or reuse) the scratch split and put the rendered answer there.
function M.show(title, result)
  local text = M.render(title, result)
  local name = 'tandem://' .. title:lower():gsub('%s+', '-')
  local bufnr = vim.fn.bufnr(name)
  if bufnr == -1 then
    bufnr = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(bufnr, name)
    vim.bo[bufnr].filetype = 'markdown'
    vim.bo[bufnr].bufhidden = 'hide'
  end
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, vim.split(text, '\n', { plain = true }))
  if vim.fn.bufwinid(bufnr) == -1 then
    local win = vim.api.nvim_get_current_win()
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, bufnr)
    vim.api.nvim_set_current_win(win)
  end
  return bufnr
end

return M
