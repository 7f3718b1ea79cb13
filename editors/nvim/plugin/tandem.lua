-- Loaded at startup: defines :TandemReview, :TandemExplain, :TandemDebug,
-- :TandemApplyFix, :TandemStats, :TandemToggle and :TandemSelectModel, the TandemGhostText
-- highlight and the LspAttach hook, so they work before require('tandem').setup()
-- and with vim.lsp.enable('tandem') alone. The plugin's modules load on first use.
if vim.g.loaded_tandem or vim.fn.has('nvim-0.10') ~= 1 then
  return
end
vim.g.loaded_tandem = true

require('tandem.bootstrap').all()
