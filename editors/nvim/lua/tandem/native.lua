-- Neovim 0.12+: inline completion is built in (vim.lsp.inline_completion); we
-- only switch it on and give <Tab> its accept-or-fall-back behaviour.
local M = {}

function M.available()
  return vim.lsp.inline_completion ~= nil and vim.lsp.inline_completion.enable ~= nil
end

local function namespace()
  return vim.api.nvim_get_namespaces()['nvim.lsp.inline_completion']
end

function M.visible(bufnr)
  local ns = namespace()
  return ns ~= nil and #vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { limit = 1 }) > 0
end

function M.attach(bufnr)
  vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
end

function M.accept(bufnr)
  vim.lsp.inline_completion.get({ bufnr = bufnr })
end

return M
