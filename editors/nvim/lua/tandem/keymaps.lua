-- Insert-mode keys for suggestions. Each key acts only while a suggestion is
-- visible; otherwise it does what it did before (the user's mapping or the key itself).
local M = {}

-- `notation`: keys are written like '<Tab>' and need translating first.
local function feed(keys, remap, notation)
  if notation then
    keys = vim.api.nvim_replace_termcodes(keys, true, false, true)
  end
  vim.api.nvim_feedkeys(keys, (remap and 'm' or 'n') .. 'i', false)
end

--- What `lhs` did in insert mode before we mapped it, as a function.
function M.fallback(lhs, bufnr)
  local previous
  vim.api.nvim_buf_call(bufnr, function()
    previous = vim.fn.maparg(lhs, 'i', false, true)
  end)
  if type(previous) ~= 'table' or vim.tbl_isempty(previous) or (previous.desc or ''):match('^tandem:') then
    return function()
      feed(lhs, false, true)
    end
  end
  local remap = previous.noremap ~= 1
  return function()
    if previous.callback then
      local keys = previous.callback()
      if previous.expr == 1 and type(keys) == 'string' then
        feed(keys, remap, previous.replace_keycodes == 1)
      end
    elseif previous.expr == 1 then
      feed(vim.api.nvim_eval(previous.rhs), remap, false)
    else
      feed(previous.rhs, remap, true)
    end
  end
end

--- Map the configured keys in `bufnr`. `actions` has visible(), accept(how), dismiss(), trigger().
function M.attach(bufnr, keymaps, actions)
  local function map(lhs, desc, when_visible, needs_visible)
    if not lhs or lhs == '' then
      return
    end
    local fallback = M.fallback(lhs, bufnr)
    vim.keymap.set('i', lhs, function()
      if needs_visible and not actions.visible() then
        fallback()
      else
        when_visible()
      end
    end, { buffer = bufnr, desc = 'tandem: ' .. desc })
  end
  map(keymaps.accept, 'accept suggestion', function()
    actions.accept('all')
  end, true)
  map(keymaps.accept_word, 'accept next word of suggestion', function()
    actions.accept('word')
  end, true)
  map(keymaps.accept_line, 'accept next line of suggestion', function()
    actions.accept('line')
  end, true)
  map(keymaps.dismiss, 'dismiss suggestion', actions.dismiss, true)
  map(keymaps.trigger, 'ask for a suggestion', actions.trigger, false)
end

return M
