"""Parsing and validation of review findings, on recorded odd model answers."""

import json

from tandem_lsp.code_checks import edit_parses, enclosing_scope, error_count, review_scope
from tandem_lsp.tasks.answer_json import RawFinding, read_findings
from tandem_lsp.tasks.findings import Finding, check_finding, dedupe, findings_schema, validate_findings
from tandem_lsp.tasks.review import apply_verdicts

CODE = """def average(values):
    total = 0
    for i in range(1, len(values)):
        total += values[i]
    return total / len(values)


class Box:
    def biggest(self, items):
        best = items[0]
        for item in items:
            if item < best:
                best = item
        return best
"""
LINES = CODE.splitlines()
WHOLE = (0, len(LINES) - 1)


def findings_of(text: str) -> list[RawFinding]:
    return read_findings(text)[0]


def _answer(*items):
    return json.dumps({"findings": list(items)})


def test_schema_is_valid_json_schema_shape():
    schema = findings_schema(5)
    items = schema["properties"]["findings"]
    assert items["maxItems"] == 5
    assert set(items["items"]["required"]) == {"line", "end_line", "severity", "message", "replacement"}
    assert schema["required"] == ["findings"]


def test_good_finding_becomes_zero_based_with_replacement():
    text = _answer({"line": 3, "end_line": 3, "severity": "error", "message": "skips first", "replacement": "    for i in range(len(values)):"})
    result = validate_findings(findings_of(text), CODE, "python", WHOLE, 8)
    assert result.findings == [Finding(2, 2, "error", "skips first", "    for i in range(len(values)):")]
    assert not result.failed_checks


def test_junk_around_json_and_fences_is_salvaged():
    text = "Sure! Here is my review:\n```json\n" + _answer({"line": "12", "severity": "BUG", "message": "wrong comparison"}) + "\n```\nHope it helps"
    (raw,) = findings_of(text)
    assert (raw.line, raw.end_line, raw.severity) == (12, 12, "error")


def test_truncated_answer_keeps_complete_items():
    full = _answer(
        {"line": 3, "end_line": 3, "severity": "error", "message": "a"},
        {"line": 12, "end_line": 12, "severity": "warning", "message": "b"},
    )
    truncated = full[: full.index('"b"') - 5]
    raws = findings_of(truncated)
    assert [r.message for r in raws] == ["a"]


def test_garbage_never_raises():
    for text in ["", "no json here", "{", '{"findings": "nope"}', "[1, 2, 3]", '{"findings": [{"line": null}]}', "\x00\ufffd"]:
        assert findings_of(text) == []


def test_line_range_string_and_reversed_range():
    (raw,) = findings_of(_answer({"line": "12-14", "severity": "info", "message": "m"}))
    assert (raw.line, raw.end_line) == (12, 14)
    result = validate_findings(findings_of(_answer({"line": 5, "end_line": 3, "severity": "info", "message": "m"})), CODE, "python", WHOLE, 8)
    assert (result.findings[0].start_line, result.findings[0].end_line) == (2, 4)


def test_range_far_outside_is_dropped_and_slightly_off_is_clamped():
    text = _answer(
        {"line": 400, "end_line": 401, "severity": "error", "message": "made up"},
        {"line": len(LINES) + 1, "end_line": len(LINES) + 2, "severity": "error", "message": "just past the end"},
    )
    result = validate_findings(findings_of(text), CODE, "python", WHOLE, 8)
    assert result.dropped == 1
    assert [(f.start_line, f.end_line) for f in result.findings] == [(len(LINES) - 1, len(LINES) - 1)]
    assert result.failed_checks


def test_findings_outside_the_reviewed_scope_are_dropped():
    scope = (8, 14)  # the method
    text = _answer({"line": 2, "end_line": 2, "severity": "error", "message": "not in scope"})
    assert validate_findings(findings_of(text), CODE, "python", scope, 8).findings == []


def test_off_by_one_citation_is_moved_to_the_line_the_fix_rewrites():
    # The fix clearly rewrites line 12 ("if item < best:") but the model cited line 11.
    text = _answer({"line": 11, "end_line": 11, "severity": "error", "message": "wrong comparison", "replacement": "            if item > best:"})
    (finding,) = validate_findings(findings_of(text), CODE, "python", WHOLE, 8).findings
    assert finding.start_line == 11 and finding.replacement == "            if item > best:"


def test_replacement_that_breaks_syntax_is_removed_and_flagged():
    text = _answer({"line": 3, "end_line": 3, "severity": "error", "message": "m", "replacement": "    for i in range(len(values)"})
    result = validate_findings(findings_of(text), CODE, "python", WHOLE, 8)
    assert result.findings[0].replacement is None
    assert result.broken[0].broken_replacement.endswith("range(len(values)")
    assert result.failed_checks


def test_lost_indentation_is_restored_and_noop_replacement_dropped():
    text = _answer(
        {"line": 12, "end_line": 12, "severity": "error", "message": "m", "replacement": "if item > best:"},
        {"line": 2, "end_line": 2, "severity": "info", "message": "same", "replacement": "    total = 0"},
    )
    result = validate_findings(findings_of(text), CODE, "python", WHOLE, 8)
    # Line 2: the "fix" is the code as it is, so by the model's own account there is no bug there.
    assert result.noops == 1 and not result.failed_checks
    assert [f.replacement for f in result.findings] == ["            if item > best:"]


def test_dedupe_and_limit_keep_the_most_severe():
    findings = [
        Finding(1, 1, "hint", "style"),
        Finding(2, 2, "error", "bug here"),
        Finding(2, 2, "error", "bug here!"),
        Finding(4, 4, "warning", "risk"),
    ]
    assert [f.message for f in dedupe(findings, 2)] == ["bug here", "risk"]


def test_verdicts_confirm_reject_correct_and_add():
    drafts = [
        (Finding(2, 2, "error", "skips first element", "    for i in range(len(values)):"), None),
        (Finding(1, 1, "warning", "total should be a float"), None),
        (Finding(10, 10, "error", "wrong comparison"), None),
    ]
    answer = {
        "verdicts": [
            {"id": 1, "verdict": "confirm"},
            {"id": 2, "verdict": "reject"},
            {"id": 3, "verdict": "correct", "line": 12, "end_line": 12, "replacement": "            if item > best:"},
        ],
        "new_findings": [{"line": 999, "end_line": 999, "severity": "error", "message": "hallucinated"}],
    }
    findings = apply_verdicts(answer, drafts, CODE, "python", WHOLE, 8)
    assert [(f.start_line, f.status) for f in findings] == [(2, "confirmed"), (11, "corrected")]
    assert findings[1].replacement == "            if item > best:"


def test_scopes_from_tree_sitter():
    assert enclosing_scope(CODE, "python", 11) == (8, 13)  # the method, not the class
    assert enclosing_scope(CODE, "python", 6) is None
    assert review_scope(CODE, "python", (3, 3)) == (0, 4)
    assert review_scope(CODE, "python", (2, 4)) == (2, 4)
    assert review_scope(CODE, "python", None) == WHOLE
    assert review_scope(CODE, "python", (6, 6)) == WHOLE


def test_edit_parse_check():
    assert error_count(CODE, "python") == 0
    assert edit_parses(CODE, "python", 2, 2, "    for i in range(len(values)):")
    assert not edit_parses(CODE, "python", 2, 2, "    for i in range(len(values):")
    assert edit_parses(CODE, None, 2, 2, "anything (")  # unknown language: cannot check


def test_whole_function_replacement_narrows_to_the_changed_line():
    rewritten = "\n".join(LINES[8:14]).replace("item < best", "item > best")
    text = _answer({"line": 9, "end_line": 14, "severity": "error", "message": "finds the minimum", "replacement": rewritten})
    (finding,) = validate_findings(findings_of(text), CODE, "python", WHOLE, 8).findings
    assert (finding.start_line, finding.end_line) == (11, 11)
    assert finding.replacement == "            if item > best:"


def test_vague_finding_over_many_lines_without_fix_is_dropped():
    text = _answer({"line": 1, "end_line": 14, "severity": "error", "message": "this function is wrong"})
    result = validate_findings(findings_of(text), CODE, "python", WHOLE, 8)
    assert result.findings == [] and result.dropped == 1


def test_findings_on_comments_or_docstrings_only_are_dropped():
    code = 'def f(x):\n    """Return x doubled."""\n    # the answer\n    return x * 3\n'
    text = _answer(
        {"line": 2, "end_line": 3, "severity": "error", "message": "docstring", "replacement": '    """Return x."""\n    # nothing'},
        {"line": 4, "end_line": 4, "severity": "error", "message": "triples instead of doubling", "replacement": "    return x * 2"},
    )
    result = validate_findings(findings_of(text), code, "python", (0, 3), 8)
    assert [f.start_line for f in result.findings] == [3]


def test_a_message_repeated_down_the_file_is_kept_once():
    text = _answer(*({"line": n, "end_line": n, "severity": "error", "message": "Loop never ends.", "replacement": f"x{n} = 0"}
                     for n in range(1, 6)))
    assert len(validate_findings(findings_of(text), CODE, "python", WHOLE, 8).findings) == 1


def test_line_numbers_copied_from_the_prompt_are_stripped():
    text = _answer({"line": 12, "end_line": 13, "severity": "error", "message": "m",
                    "replacement": "12 |             if item > best:\n13 |                 best = item"})
    (finding,) = validate_findings(findings_of(text), CODE, "python", WHOLE, 8).findings
    assert (finding.start_line, finding.replacement) == (11, "            if item > best:")


def test_numbered_lines_in_a_replacement_fix_its_range():
    # The model said lines 12-12 but its replacement carries lines 12 and 13, numbered.
    text = _answer({"line": 12, "end_line": 12, "severity": "error", "message": "m",
                    "replacement": "```\n12 |             if item > best:\n13 |                 best = item\n```"})
    (finding,) = validate_findings(findings_of(text), CODE, "python", WHOLE, 8).findings
    assert (finding.start_line, finding.end_line, finding.replacement) == (11, 11, "            if item > best:")


def test_a_fix_that_only_drops_a_comment_or_respaces_is_no_fix():
    text = "def area(r):\n    return 3.14 * r * r  # close enough\n"
    checked = check_finding(RawFinding(2, 2, "warning", "comment is wrong", "    return 3.14 * r * r"), text, "python", (0, 1))
    assert checked is not None and checked.noop and checked.finding.replacement is None


def test_a_fix_that_deletes_the_function_it_fixes_loses_its_replacement():
    text = "def detect(node):\n    return node.next\n"
    checked = check_finding(RawFinding(1, 1, "error", "node may be None", "if node is None: return False"), text, "python", (0, 1))
    assert checked is not None and checked.finding.replacement is None
