"""The likelihood pass: review findings and debug candidates from what a code model finds unlikely, no prompt and no JSON.

surprise.py         one forward pass over the code: the tokens the model confidently expected
                    otherwise (suspects), its own continuation from there (candidate fixes), and
                    the file's likelihood with and without each candidate (gains)
line_fixes.py       the drafting model proposes one-line fixes, the verifier adds its own and
                    weighs each by the whole file (used by review and by debug)
likely_findings.py  the pass as a review step: a clear gain becomes a finding with a quick fix
line_edits.py       a rewrite split into its separate changes, so each can be weighed on its own
"""
