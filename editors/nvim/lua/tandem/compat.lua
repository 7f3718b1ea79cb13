-- Small shims over the Neovim 0.10 / 0.11 / 0.12 LSP client API differences.
local M = {}

M.has_011 = vim.fn.has('nvim-0.11') == 1
M.uv = vim.uv or vim.loop

-- client:name(...) on 0.11+ (methods), client.name(...) before (functions bound to the client).
local function call(client, name, ...)
  if M.has_011 then
    return client[name](client, ...)
  end
  return client[name](...)
end

--- Send a request; returns a function that cancels it (a no-op once answered).
function M.request(client, method, params, handler, bufnr)
  local ok, id = call(client, 'request', method, params, handler, bufnr)
  if not ok then
    return nil
  end
  return function()
    call(client, 'cancel_request', id)
  end
end

--- A request that waits for its answer (for :checkhealth, which cannot wait otherwise):
--- the result, or nil and an error message.
function M.request_sync(client, method, params, timeout_ms, bufnr)
  local answer, err = call(client, 'request_sync', method, params, timeout_ms, bufnr)
  if not answer then
    return nil, tostring(err or 'no answer')
  end
  if answer.err then
    return nil, answer.err.message or vim.inspect(answer.err)
  end
  return answer.result
end

function M.notify(client, method, params)
  return call(client, 'notify', method, params)
end

function M.is_stopped(client)
  return call(client, 'is_stopped')
end

--- The running tandem client for a buffer (or any tandem client when bufnr is nil).
function M.client(bufnr)
  return vim.lsp.get_clients({ name = 'tandem', bufnr = bufnr })[1]
end

--- Byte column of an LSP position's character on `line`, in the client's encoding.
function M.byte_col(line, character, encoding)
  if encoding == 'utf-8' then
    return math.min(character, #line)
  end
  local ok, col
  if M.has_011 then
    ok, col = pcall(vim.str_byteindex, line, encoding, character, false)
  else
    ok, col = pcall(vim.str_byteindex, line, character, encoding == 'utf-16')
  end
  return ok and col or #line
end

return M
