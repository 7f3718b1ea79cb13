"""Which model role serves which task, and when the reasoning model checks a draft.

The rule: generating code and reviewing it go to the general model; debugging
and verification go to the reasoning model. The combination: the general
model drafts (cheap, fast), the reasoning model verifies the draft - confirms,
rejects or corrects each finding - when the user asks for a deep review, or
when the draft failed a mechanical check (a replacement that does not parse,
a finding whose lines do not exist). A draft that passes the checks in a
normal review is shown as is: verification costs a second, slower model call.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from typing import Literal

from tandem_lsp.config import Settings
from tandem_lsp.models.backend import ModelError
from tandem_lsp.models.gguf_info import read_gguf_info
from tandem_lsp.models.registry import Role, resolve_key, role_settings

Task = Literal["complete", "review", "explain", "debug", "verify"]

TASK_ROLES: dict[Task, Role] = {
    "complete": "completion",
    "review": "review",
    "explain": "review",
    "debug": "reasoning",
    "verify": "reasoning",
}

# Model names that announce a thinking model (R1 distills, QwQ, Qwen3, ...).
_REASONING_NAME = re.compile(r"(?i)(\br1\b|-r1|qwq|qwen3|think|reason|magistral|phi-4-mini-flash|exaone-deep|skywork-o1)")

ModelKind = Literal["general", "reasoning"]


def role_for(task: Task) -> Role:
    return TASK_ROLES[task]


def same_model(settings: Settings, first: Role, second: Role) -> bool:
    """True when two roles end up on one loaded model (the fallback chain)."""
    try:
        return resolve_key(role_settings(settings, first)) == resolve_key(role_settings(settings, second))
    except ModelError:
        return False


def model_kind(settings: Settings, role: Role) -> ModelKind:
    """How to prompt a role's model: "reasoning" when it thinks before answering.

    The GGUF's chat template says so (it handles <think> blocks); for HTTP
    models, whose template we cannot read, the model name decides. A general
    model standing in for the reasoning role still gets general prompts.
    """
    model = role_settings(settings, role)
    if model.endpoint:
        return "reasoning" if _REASONING_NAME.search(model.remote_model) else "general"
    try:
        path = resolve_key(model).path
    except ModelError:
        return "general"
    return "reasoning" if _gguf_reasons(path) else "general"


@functools.lru_cache(maxsize=32)
def _gguf_reasons(path: str) -> bool:
    try:
        return read_gguf_info(path).reasoning
    except (ModelError, OSError):
        return bool(_REASONING_NAME.search(os.path.basename(path)))


@dataclass(frozen=True)
class VerifyPlan:
    verify: bool
    # The verifier is the drafting model itself: a short, cheap second pass.
    cheap: bool
    reason: str


def plan_verification(settings: Settings, deep: bool, failed_checks: bool, drafted_anything: bool) -> VerifyPlan:
    cheap = same_model(settings, "review", "reasoning")
    if deep:
        return VerifyPlan(True, cheap, "deep review")
    if failed_checks:
        return VerifyPlan(True, cheap, "draft failed a check")
    return VerifyPlan(False, cheap, "draft passed the checks" if drafted_anything else "nothing to verify")
