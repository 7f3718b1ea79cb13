-- An in-process stand-in for tandem-lsp, for specs that must not depend on a
-- model's output: vim.lsp.start accepts a function as `cmd` that returns the
-- RPC object. It syncs full documents and answers textDocument/inlineCompletion
-- with two items when the text before the cursor is `anchor` followed by a
-- start of `suggestion`: the rest of the suggestion, then `alternative`. It
-- answers `tandem/models` with `opts.models` and `tandem/doctor` with
-- `opts.doctor`. It records initialize params, answered requests, executed
-- commands, custom requests ({ method, params }) and the settings of each
-- workspace/didChangeConfiguration.
local F = { initialize = {}, answered = {}, commands = {}, requests = {}, configurations = {} }

local ACCEPTED = { title = 'accepted', command = 'tandem.accepted', arguments = {} }

-- opts: { anchor, suggestion, alternative }
function F.cmd(opts)
  return function(dispatchers)
    local docs, closing, last_id = {}, false, 0

    local function text_before(uri, pos)
      local lines = vim.split(docs[uri] or '', '\n', { plain = true })
      local out = vim.list_slice(lines, 1, pos.line)
      table.insert(out, (lines[pos.line + 1] or ''):sub(1, pos.character))
      return table.concat(out, '\n')
    end

    local handlers = {
      initialize = function(params)
        table.insert(F.initialize, {
          rootUri = params.rootUri,
          workspaceFolders = params.workspaceFolders,
          initializationOptions = params.initializationOptions,
        })
        return {
          capabilities = {
            textDocumentSync = { openClose = true, change = 1 },
            inlineCompletionProvider = true,
            executeCommandProvider = { commands = { ACCEPTED.command } },
          },
          serverInfo = { name = 'fake-tandem' },
        }
      end,
      ['textDocument/inlineCompletion'] = function(params)
        local before = text_before(params.textDocument.uri, params.position)
        table.insert(F.answered, before)
        local typed = before:sub(#opts.anchor + 1)
        if before:sub(1, #opts.anchor) ~= opts.anchor or opts.suggestion:sub(1, #typed) ~= typed or #typed >= #opts.suggestion then
          return { items = {} }
        end
        local range = { start = params.position, ['end'] = params.position }
        return {
          items = {
            { insertText = opts.suggestion:sub(#typed + 1), range = range, command = ACCEPTED },
            { insertText = opts.alternative, range = range, command = ACCEPTED },
          },
        }
      end,
      ['workspace/executeCommand'] = function(params)
        table.insert(F.commands, params.command)
      end,
      ['tandem/models'] = function(params)
        table.insert(F.requests, { method = 'tandem/models', params = params })
        return { models = opts.models or {} }
      end,
      ['tandem/doctor'] = function(params)
        table.insert(F.requests, { method = 'tandem/doctor', params = params })
        return opts.doctor or { ok = true, checks = {}, report = '' }
      end,
    }

    local rpc = {}
    function rpc.request(method, params, callback, notify_reply_callback)
      last_id = last_id + 1
      local id = last_id
      vim.schedule(function()
        local handler = handlers[method]
        callback(nil, handler and handler(params) or nil)
        if notify_reply_callback then
          notify_reply_callback(id)
        end
      end)
      return true, id
    end
    function rpc.notify(method, params)
      if method == 'textDocument/didOpen' then
        docs[params.textDocument.uri] = params.textDocument.text
      elseif method == 'textDocument/didChange' then
        docs[params.textDocument.uri] = params.contentChanges[#params.contentChanges].text
      elseif method == 'workspace/didChangeConfiguration' then
        table.insert(F.configurations, params.settings)
      elseif method == 'exit' then
        closing = true
        vim.schedule(function()
          dispatchers.on_exit(0, 0)
        end)
      end
      return true
    end
    function rpc.is_closing()
      return closing
    end
    function rpc.terminate()
      closing = true
    end
    return rpc
  end
end

--- A step wait: true once pred() holds and the server has answered nothing
--- new for `quiet_ms` (so no answer in flight replaces what is shown).
function F.settled(pred, quiet_ms)
  local count, since = -1, nil
  return function()
    if not pred() then
      since = nil
      return false
    end
    if #F.answered ~= count or not since then
      count, since = #F.answered, vim.uv.now()
      return false
    end
    return vim.uv.now() - since >= (quiet_ms or 300)
  end
end

return F
