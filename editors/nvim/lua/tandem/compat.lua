-- Small shims over the Neovim 0.10 / 0.11 / 0.12 LSP client API differences.
local M = {}

M.has_011 = vim.fn.has('nvim-0.11') == 1
M.uv = vim.uv or vim.loop

--- Send a request; returns a function that cancels it (a no-op once answered).
function M.request(client, method, params, handler, bufnr)
  local ok, id
  if M.has_011 then
    ok, id = client:request(method, params, handler, bufnr)
  else
    ok, id = client.request(method, params, handler, bufnr)
  end
  if not ok then
    return nil
  end
  return function()
    if M.has_011 then
      client:cancel_request(id)
    else
      client.cancel_request(id)
    end
  end
end

function M.notify(client, method, params)
  if M.has_011 then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

function M.is_stopped(client)
  if M.has_011 then
    return client:is_stopped()
  end
  return client.is_stopped()
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
