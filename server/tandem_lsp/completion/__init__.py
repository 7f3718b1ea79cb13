"""Inline completion: prompt assembly, generation and post-processing (no LSP types)."""
