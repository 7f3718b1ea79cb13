-- Tiny harness for headless Neovim tests driven from pytest: run steps one
-- after another (each may wait for a condition), then write a JSON result
-- file and quit. Keys go through nvim_input, so mappings run as if typed.
local H = {}

H.result_path = assert(os.getenv('TANDEM_RESULT'), 'TANDEM_RESULT not set')
H.result = { steps = {}, log = {} }

function H.log(msg)
  table.insert(H.result.log, ('%.3f %s'):format(vim.uv.hrtime() / 1e9, msg))
end

function H.finish(err)
  H.result.error = err
  local f = assert(io.open(H.result_path, 'w'))
  f:write(vim.json.encode(H.result))
  f:close()
  vim.cmd('qa!')
end

function H.lines(bufnr)
  return vim.api.nvim_buf_get_lines(bufnr or 0, 0, -1, false)
end

--- Text drawn by extmarks in `ns`: first line from virt_text, the rest from virt_lines.
function H.ghost_text(bufnr, ns)
  local marks = vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })
  if #marks == 0 then
    return nil
  end
  local d = marks[1][4]
  local out = {}
  local first = ''
  for _, chunk in ipairs(d.virt_text or {}) do
    first = first .. chunk[1]
  end
  table.insert(out, first)
  for _, line in ipairs(d.virt_lines or {}) do
    local text = ''
    for _, chunk in ipairs(line) do
      text = text .. chunk[1]
    end
    table.insert(out, text)
  end
  return table.concat(out, '\n'), marks[1][2], marks[1][3]
end

--- A step's wait: true once the tandem client of `bufnr` (a number, or a
--- function giving it) is initialized; on_ready(client) runs then.
function H.client_ready(bufnr, on_ready)
  return function()
    local b = type(bufnr) == 'function' and bufnr() or bufnr
    local client = vim.lsp.get_clients({ name = 'tandem', bufnr = b })[1]
    if not (client and client.initialized) then
      return false
    end
    if on_ready then
      on_ready(client)
    end
    return true
  end
end

--- steps: list of { name, run = fn() (optional), wait = fn() -> truthy (optional), timeout_ms }.
function H.run(steps, total_timeout_ms)
  vim.defer_fn(function()
    H.finish('overall timeout')
  end, total_timeout_ms)
  local i = 0
  local function next_step()
    i = i + 1
    local step = steps[i]
    if not step then
      return H.finish(nil)
    end
    H.log('step ' .. step.name)
    local ok, err = pcall(step.run or function() end)
    if not ok then
      return H.finish(step.name .. ': ' .. tostring(err))
    end
    local deadline = vim.uv.now() + (step.timeout_ms or 5000)
    local function poll()
      local done_ok, done = pcall(step.wait or function()
        return true
      end)
      if not done_ok then
        return H.finish(step.name .. ': ' .. tostring(done))
      end
      if done then
        H.result.steps[step.name] = true
        return vim.defer_fn(next_step, step.settle_ms or 30)
      end
      if vim.uv.now() > deadline then
        return H.finish(step.name .. ': timed out')
      end
      vim.defer_fn(poll, 50)
    end
    vim.defer_fn(poll, step.delay_ms or 30)
  end
  vim.defer_fn(next_step, 0)
end

return H
