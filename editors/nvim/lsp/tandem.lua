-- Neovim 0.11+: `vim.lsp.enable('tandem')` starts tandem-lsp with this config;
-- change it with vim.lsp.config('tandem', { cmd = ..., settings = { tandem = { ... } } }).
-- Built from require('tandem').setup()'s options when setup() ran first, else the defaults.
-- No root marker above a file: the server starts without a workspace folder and indexes nothing.
return require('tandem.client').config(require('tandem').options())
