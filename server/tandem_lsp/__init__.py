"""tandem-lsp: an offline coding assistant that lives in the editor as a Language Server."""

__version__ = "0.1.0"
