-- Neovim 0.12+: inline completion is built in (vim.lsp.inline_completion). We
-- switch it on and give the keys their accept-or-fall-back behaviour: accept
-- all, accept the next word or line, next/previous candidate, dismiss.
local text_util = require('tandem.text')

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

-- The item's text as plain text (a snippet is inserted without its placeholders).
local function item_text(item)
  local text = item.insert_text
  if type(text) == 'table' then
    local ok, parsed = pcall(function()
      return tostring(require('vim.lsp._snippet_grammar').parse(text.value))
    end)
    text = ok and parsed or text.value
  end
  return text
end

-- on_accept for a partial accept: inserts the next word or line of what is
-- left of the item after the cursor and returns nil, so Neovim inserts nothing
-- more and the item's command (the server's "accepted") is not run. When the
-- part is all that is left, returns the item for Neovim's own full accept.
local function partial(bufnr, how)
  return function(item)
    local text = item_text(item)
    if type(text) ~= 'string' then
      return nil
    end
    if item.range then
      -- The range starts where the server was asked; what was typed since is in the buffer.
      local row, col = item.range:to_extmark()
      local typed = text_util.typed_since(bufnr, row, col)
      if not typed or text:sub(1, #typed) ~= typed then
        return nil
      end
      text = text:sub(#typed + 1)
    end
    local part = text_util.part(text, how)
    if part == '' then
      return nil
    elseif #part == #text then
      return item
    end
    local pos = vim.api.nvim_win_get_cursor(0)
    text_util.insert(bufnr, pos[1] - 1, pos[2], pos[2], part)
    return nil
  end
end

--- how = 'all' (Neovim's accept: the whole item and its command), 'word' or 'line'.
function M.accept(bufnr, how)
  if how == 'word' or how == 'line' then
    return vim.lsp.inline_completion.get({ bufnr = bufnr, on_accept = partial(bufnr, how) })
  end
  return vim.lsp.inline_completion.get({ bufnr = bufnr })
end

--- Hide the suggestion: get() with an on_accept that declines to insert anything.
function M.dismiss(bufnr)
  return vim.lsp.inline_completion.get({
    bufnr = bufnr,
    on_accept = function()
      return nil
    end,
  })
end

--- Show the next (count > 0) or previous (count < 0) candidate.
function M.select(bufnr, count)
  vim.lsp.inline_completion.select({ bufnr = bufnr, count = count })
end

-- No trigger(): the built-in asks by itself on every cursor move in insert mode.

return M
