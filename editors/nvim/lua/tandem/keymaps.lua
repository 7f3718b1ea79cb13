-- Insert-mode keys for suggestions. Each key acts only while a suggestion is
-- visible; otherwise it does what it would do without us: a buffer mapping that
-- was there first, else the global mapping as it is at the moment of the key
-- press (completion plugins often map <Tab> after we attach), else the key itself.
local M = {}

-- `notation`: keys are written like '<Tab>' and need translating first.
local function feed(keys, remap, notation)
  if notation then
    keys = vim.api.nvim_replace_termcodes(keys, true, false, true)
  end
  vim.api.nvim_feedkeys(keys, (remap and 'm' or 'n') .. 'i', false)
end

local function ours(mapping)
  return (mapping.desc or ''):match('^tandem:') ~= nil
end

local function find(mappings, lhs)
  local want = vim.fn.keytrans(vim.keycode(lhs))
  for _, m in ipairs(mappings) do
    if m.lhs == want and not ours(m) then
      return m
    end
  end
  return nil
end

local function run_mapping(mapping)
  local remap = mapping.noremap ~= 1
  if mapping.callback then
    local keys = mapping.callback()
    if mapping.expr == 1 and type(keys) == 'string' then
      feed(keys, remap, mapping.replace_keycodes == 1)
    end
  elseif mapping.expr == 1 then
    feed(vim.api.nvim_eval(mapping.rhs), remap, false)
  else
    feed(mapping.rhs or '', remap, true)
  end
end

--- What `lhs` does in insert mode without our mapping, as a function.
function M.fallback(lhs, bufnr)
  local buffer_mapping = find(vim.api.nvim_buf_get_keymap(bufnr, 'i'), lhs)
  return function()
    local mapping = buffer_mapping or find(vim.api.nvim_get_keymap('i'), lhs)
    if mapping then
      run_mapping(mapping)
    else
      feed(lhs, false, true)
    end
  end
end

--- Map the configured keys in `bufnr`. `actions` (tandem.ghost or tandem.native)
--- has visible(bufnr), accept(bufnr, how), select(bufnr, count), dismiss(bufnr)
--- and trigger(bufnr); a key whose action is missing is not mapped.
function M.attach(bufnr, keymaps, actions)
  local function map(lhs, desc, action, needs_visible)
    if not lhs or lhs == '' or not action then
      return
    end
    local fallback = M.fallback(lhs, bufnr)
    vim.keymap.set('i', lhs, function()
      if needs_visible and not actions.visible(bufnr) then
        fallback()
      else
        action()
      end
    end, { buffer = bufnr, desc = 'tandem: ' .. desc })
  end
  local function with(fn, arg)
    return fn and function()
      fn(bufnr, arg)
    end
  end
  map(keymaps.accept, 'accept suggestion', with(actions.accept, 'all'), true)
  map(keymaps.accept_word, 'accept next word of suggestion', with(actions.accept, 'word'), true)
  map(keymaps.accept_line, 'accept next line of suggestion', with(actions.accept, 'line'), true)
  map(keymaps.next, 'next suggestion', with(actions.select, 1), true)
  map(keymaps.prev, 'previous suggestion', with(actions.select, -1), true)
  map(keymaps.dismiss, 'dismiss suggestion', with(actions.dismiss), true)
  map(keymaps.trigger, 'ask for a suggestion', with(actions.trigger), false)
end

return M
