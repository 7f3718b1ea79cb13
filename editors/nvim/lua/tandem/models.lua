-- :TandemSelectModel: the GGUF files the server finds (its `tandem/models`
-- request, the list `tandem-lsp models` prints) in vim.ui.select; the choice
-- becomes completionModel.path in the plugin's settings and goes to the server.
local compat = require('tandem.compat')

local M = {}

local function size(bytes)
  if type(bytes) ~= 'number' then
    return nil
  end
  for _, unit in ipairs({ 'B', 'KB', 'MB' }) do
    if bytes < 1000 then
      return ('%.0f%s'):format(bytes, unit)
    end
    bytes = bytes / 1000
  end
  return ('%.1fGB'):format(bytes)
end

--- One menu line: "name  (0.5B Q4_K_M, FIM, 491MB, tandem)", "current" for the model in use.
function M.format(model, current)
  local facts = {}
  local function add(value)
    if type(value) == 'string' and value ~= '' then
      table.insert(facts, value)
    end
  end
  add(vim.trim(('%s %s'):format(type(model.sizeLabel) == 'string' and model.sizeLabel or '', type(model.quantization) == 'string' and model.quantization or '')))
  add(model.hasFim == true and 'FIM' or 'no FIM')
  add(size(model.fileSize))
  add(model.source)
  add(model.path == current and 'current' or nil)
  return ('%s  (%s)'):format(model.name or model.path, table.concat(facts, ', '))
end

-- The completion model path the client runs with now.
local function current_path(client)
  return vim.tbl_get(client.settings or {}, 'tandem', 'completionModel', 'path')
end

--- Ask the server for its models, let the user pick one, apply it.
--- opts.args: an optional folder to search as well (as `tandem-lsp models --dir`).
function M.select(opts)
  local client = compat.client(vim.api.nvim_get_current_buf()) or compat.client(nil)
  if not client then
    vim.notify('tandem: the server is not running (see :checkhealth tandem)', vim.log.levels.WARN)
    return
  end
  local params = vim.empty_dict()
  if opts and opts.args and opts.args ~= '' then
    params = { dirs = { vim.fn.fnamemodify(vim.fn.expand(opts.args), ':p') } }
  end
  compat.request(client, 'tandem/models', params, function(err, result)
    if err then
      vim.notify('tandem: listing models failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    local usable, unreadable = {}, 0
    for _, model in ipairs(type(result) == 'table' and result.models or {}) do
      if type(model) == 'table' and type(model.path) == 'string' and (model.error or '') == '' then
        table.insert(usable, model)
      else
        unreadable = unreadable + 1
      end
    end
    if #usable == 0 then
      vim.notify('tandem: no GGUF models found (put one in ~/.cache/tandem/models, set TANDEM_MODELS_DIR, or give a folder: :TandemSelectModel DIR)', vim.log.levels.WARN)
      return
    end
    local current = current_path(client)
    local prompt = unreadable > 0 and ('Completion model (%d unreadable file(s) left out)'):format(unreadable) or 'Completion model'
    vim.ui.select(usable, {
      prompt = prompt,
      kind = 'tandem.model',
      format_item = function(model)
        return M.format(model, current)
      end,
    }, function(choice)
      if not choice then
        return
      end
      require('tandem').update_settings({ completionModel = { path = choice.path } })
      vim.notify('tandem: completion model ' .. (choice.name or choice.path))
    end)
  end)
end

return M
