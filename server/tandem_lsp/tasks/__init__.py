"""LLM tasks beyond completion; no LSP types here (the server and the CLI both call them).

review.py   findings for a selection, the enclosing function or a file (general model drafts,
            reasoning model verifies on "deep" or when a draft fails a check)
explain.py  plain-words explanation of a range
debug.py    explanation and fix for an error (two reasoning answers, weighed; one-line fixes from
            the likelihood pass when they do not both fix the code; the general draft last)
router.py   which role serves which task; when verification runs; how to prompt each model kind
prompts.py  the prompts, numbered code lines, JSON schemas of the answers
answer_json.py  the JSON in a model answer, salvage of odd answers, coercion to RawFinding
findings.py Finding, the answer schema, range/syntax validation, dedupe
likelihood/ review findings and debug candidates from what a code model finds unlikely (no prompt, no JSON)
chat.py     one chat turn on the model worker, cancellable, with progress
"""
