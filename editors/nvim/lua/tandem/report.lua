-- Shows a server command's answer as Markdown in a scratch split. Review answers
-- carry LSP diagnostics (also published, so they show as diagnostics too),
-- explain answers text, debug answers an explanation and a diff.
local M = {}

local TEXT_FIELDS = { 'markdown', 'text', 'explanation', 'answer', 'content', 'message' }
local SEVERITY_NAMES = { 'error', 'warning', 'info', 'hint' } -- LSP DiagnosticSeverity 1..4
-- The model's reasoning can be long; the report keeps the start.
local MAX_REASONING_CHARS = 3000

local function str(value)
  return type(value) == 'string' and value ~= '' and value or nil
end

local function finding_line(f)
  if type(f) ~= 'table' then
    return '- ' .. tostring(f)
  end
  local line = f.line
  if type(f.range) == 'table' and type(f.range.start) == 'table' and type(f.range.start.line) == 'number' then
    line = f.range.start.line + 1
  end
  local head = {}
  local severity = type(f.severity) == 'number' and SEVERITY_NAMES[f.severity] or str(f.severity)
  if severity then
    table.insert(head, severity)
  end
  if type(line) == 'number' then
    table.insert(head, 'line ' .. line)
  end
  local out = '- ' .. (#head > 0 and ('**' .. table.concat(head, ', ') .. '**: ') or '') .. tostring(f.message or vim.inspect(f))
  local fix = str(f.fix) or str(f.replacement) or (type(f.data) == 'table' and str(f.data.replacement))
  if fix then
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

local function object_body(result)
  if str(result.error) then
    return '**Error:** ' .. result.error
  elseif result.cancelled == true then
    return '_Cancelled._'
  elseif result.stale == true then
    return '_The file changed while the model worked; run it again._'
  end
  local parts = {}
  for _, field in ipairs(TEXT_FIELDS) do
    if type(result[field]) == 'string' and result[field]:match('%S') then
      table.insert(parts, result[field])
      break
    end
  end
  local list = type(result.findings) == 'table' and result.findings or result.diagnostics
  if type(list) == 'table' then
    table.insert(parts, findings(list))
  end
  if type(result.note) == 'string' and result.note:match('%S') then
    table.insert(parts, '_' .. vim.trim(result.note) .. '_')
  end
  if type(result.diff) == 'string' and result.diff:match('%S') then
    table.insert(parts, '```diff\n' .. result.diff:gsub('\n$', '') .. '\n```')
  end
  if type(result.reasoning) == 'string' and result.reasoning:match('%S') then
    local reasoning = vim.trim(result.reasoning)
    if #reasoning > MAX_REASONING_CHARS then
      reasoning = reasoning:sub(1, MAX_REASONING_CHARS) .. '…'
    end
    table.insert(parts, '## Reasoning\n\n' .. reasoning)
  end
  return #parts > 0 and table.concat(parts, '\n\n') or ('```json\n' .. vim.json.encode(result) .. '\n```')
end

--- Markdown text for `result`.
function M.render(title, result)
  local body
  if result == nil or result == vim.NIL then
    body = '_No answer from the server._'
  elseif type(result) == 'string' then
    body = result
  elseif type(result) == 'table' and vim.islist(result) and #result > 0 then
    body = findings(result)
  elseif type(result) == 'table' then
    body = object_body(result)
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
