"""Which role serves which task, when verification runs, and how each model kind is prompted."""

from pathlib import Path

from tandem_lsp.config import Settings
from tandem_lsp.tasks.prompts import CodeView, FaultView, fix_messages, number_lines, plain_fix_messages, review_messages
from tandem_lsp.tasks.router import model_kind, plan_verification, role_for, same_model

QWEN3_TEMPLATE = "{% if enable_thinking %}<think>\n{% endif %}{{ messages }}"


def _gguf(path: Path, template: str) -> Path:
    """A minimal GGUF v3 file with a chat template (metadata only, no tensors)."""
    import struct

    def string(text: str) -> bytes:
        data = text.encode()
        return struct.pack("<Q", len(data)) + data

    meta = [("general.architecture", "llama"), ("tokenizer.chat_template", template)]
    body = b"GGUF" + struct.pack("<IQQ", 3, 0, len(meta))
    for key, value in meta:
        body += string(key) + struct.pack("<I", 8) + string(value)
    path.write_bytes(body)
    return path


def test_task_roles_follow_the_rule():
    assert [role_for(t) for t in ("complete", "review", "explain", "debug", "verify")] == [
        "completion", "review", "review", "reasoning", "reasoning"
    ]


def test_one_model_for_everything_makes_verification_a_cheap_second_pass():
    settings = Settings()
    assert same_model(settings, "review", "reasoning")
    plan = plan_verification(settings, deep=False, failed_checks=False, drafted_anything=True)
    assert not plan.verify
    plan = plan_verification(settings, deep=False, failed_checks=True, drafted_anything=True)
    assert plan.verify and plan.cheap and plan.reason == "draft failed a check"


def test_a_separate_reasoning_model_verifies_deep_reviews_in_full(tmp_path: Path):
    settings = Settings().merged({"reasoningModel": {"path": str(tmp_path / "r1.gguf")}})
    assert not same_model(settings, "review", "reasoning")
    plan = plan_verification(settings, deep=True, failed_checks=False, drafted_anything=False)
    assert plan.verify and not plan.cheap


def test_model_kind_reads_the_chat_template_then_the_name(tmp_path: Path):
    thinking = _gguf(tmp_path / "some-model.gguf", QWEN3_TEMPLATE)
    plain = _gguf(tmp_path / "coder.gguf", "{{ messages }}")
    assert model_kind(Settings().merged({"reasoningModel": {"path": str(thinking)}}), "reasoning") == "reasoning"
    # A general model standing in for the reasoning role is still prompted as a general model.
    assert model_kind(Settings().merged({"reasoningModel": {"path": str(plain)}}), "reasoning") == "general"
    # No readable file: the name decides.
    assert model_kind(Settings().merged({"reasoningModel": {"path": str(tmp_path / "DeepSeek-R1-Distill-Qwen-7B.gguf")}}), "reasoning") == "reasoning"
    http = Settings().merged({"reasoningModel": {"endpoint": "http://127.0.0.1:1/v1", "remoteModel": "qwq-32b"}})
    assert model_kind(http, "reasoning") == "reasoning"


def test_prompts_number_lines_and_differ_by_kind():
    lines = ["def f(x):", "    return x + 1"]
    assert number_lines(lines) == "1 | def f(x):\n2 |     return x + 1"
    view = CodeView("python", "/src/f.py", lines, (0, 1))
    general = review_messages("general", view, (0, 1), 5)[-1].content
    reasoning = review_messages("reasoning", view, (0, 1), 5)[-1].content
    assert "2 |     return x + 1" in general and "2 |     return x + 1" in reasoning
    assert "1." in general and "4." in general  # explicit steps for a general model
    assert "1." not in reasoning and len(reasoning) < len(general)  # the goal only, for a reasoning model
    fault = FaultView("python", "def f(x):\n    return x + 1\n", "line 2: `return x + 1`")
    debug = fix_messages(fault, "TypeError: boom", ["def g(): ..."])[-1].content
    assert "TypeError: boom" in debug and "def g(): ..." in debug and "line 2: `return x + 1`" in debug
    assert "```python\ndef f(x):\n    return x + 1\n```" in debug  # plain code, no line numbers: the answer is placed by name
    # The plain request shows the file exactly as it is, as a user pastes it (trailing blank lines too).
    ragged = FaultView("python", "def f(x):\n    return x\n\n", "")
    plain = plain_fix_messages(ragged, "TypeError: boom\n")[-1].content
    assert "```python\ndef f(x):\n    return x\n\n\n```" in plain and "```\nTypeError: boom\n```" in plain
