-- What exists before (and without) setup(): the user commands, the
-- TandemGhostText highlight and the LspAttach hook that wires the keys. Sourced
-- by plugin/tandem.lua at startup, so it requires nothing at load time: each
-- command loads tandem.commands when first run. Every function may run twice
-- (plugin/ and setup()); the second run changes nothing.
local M = {}

-- name -> { handler in tandem.commands, command attributes }
local COMMANDS = {
  TandemReview = { 'review', { range = true, bang = true, desc = 'Review the file or range with tandem (! = deep review with the reasoning model)' } },
  TandemExplain = { 'explain', { range = true, desc = 'Explain the current line or range with tandem' } },
  TandemDebug = { 'debug', { range = true, nargs = '?', desc = 'Explain an error message against the code (reasoning model)' } },
  TandemApplyFix = { 'apply_fix', { desc = 'Apply the fix from the last :TandemDebug' } },
  TandemStats = { 'stats_command', { desc = 'Show tandem latency and cache statistics' } },
  TandemSelectModel = {
    'select_model',
    { nargs = '?', complete = 'dir', desc = 'Pick the completion model from the GGUF files tandem finds (optionally also in DIR)' },
  },
  TandemToggle = {
    'toggle',
    {
      nargs = '?',
      complete = function()
        return { 'on', 'off' }
      end,
      desc = 'Turn tandem inline completion on/off',
    },
  },
}
M.command_names = vim.tbl_keys(COMMANDS)
table.sort(M.command_names)

local commands_defined = false

function M.commands()
  if commands_defined then
    return
  end
  commands_defined = true
  for name, spec in pairs(COMMANDS) do
    local handler, attrs = spec[1], spec[2]
    vim.api.nvim_create_user_command(name, function(opts)
      require('tandem.commands')[handler](opts)
    end, attrs)
  end
end

local function define_highlight()
  -- default: a colorscheme or the user may define it; ours applies only where they do not.
  vim.api.nvim_set_hl(0, 'TandemGhostText', { link = 'Comment', default = true })
end

--- TandemGhostText, again after every :colorscheme (which clears highlight groups).
function M.highlight()
  define_highlight()
  vim.api.nvim_create_autocmd('ColorScheme', {
    group = vim.api.nvim_create_augroup('tandem_highlight', { clear = true }),
    callback = define_highlight,
  })
end

--- Wire the suggestion keys into each buffer a tandem client attaches to, however
--- the client was started (setup() or vim.lsp.enable('tandem')).
function M.lsp_attach()
  vim.api.nvim_create_autocmd('LspAttach', {
    group = vim.api.nvim_create_augroup('tandem_attach', { clear = true }),
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == 'tandem' then
        require('tandem').attach(args.buf)
      end
    end,
  })
end

function M.all()
  M.commands()
  M.highlight()
  M.lsp_attach()
end

return M
