-- Tracks the server's `tandem/status` notifications for statuslines and errors.
local M = { state = 'stopped', message = '' }

local ICONS = { loading = '…', ready = '✓', indexing = '⟳', error = '✗', disabled = '○', stopped = '·' }

--- Handler for the `tandem/status` notification.
function M.handler(_, params)
  if type(params) ~= 'table' then
    return
  end
  local previous = M.message
  M.state = params.state or M.state
  M.message = params.message or ''
  -- Follow the server's on/off switch (:TandemToggle, another client, settings).
  if M.state == 'disabled' or M.state == 'ready' then
    local ghost = require('tandem.ghost')
    ghost.enabled = M.state == 'ready'
    if not ghost.enabled then
      ghost.clear()
    end
  end
  if M.state == 'error' and M.message ~= previous and M.message ~= '' then
    vim.notify('tandem: ' .. M.message, vim.log.levels.ERROR)
  end
  vim.api.nvim_exec_autocmds('User', { pattern = 'TandemStatus', modeline = false, data = params })
end

--- A short string for a statusline, e.g. "tandem ✓" or "tandem ⟳ indexing".
function M.statusline()
  local icon = ICONS[M.state] or '?'
  if M.state == 'ready' then
    return 'tandem ' .. icon
  end
  return ('tandem %s %s'):format(icon, M.state)
end

return M
