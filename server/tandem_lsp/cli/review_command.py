"""`tandem-lsp review FILE`: print the model's review findings for a file."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from tandem_lsp.cli.common import add_model_arguments, language_of, parse_lines, read_source, run_task
from tandem_lsp.tasks.review import ReviewResult, review

def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("review", help="review a file with the general model", description=__doc__)
    parser.add_argument("file", help="source file to review")
    parser.add_argument("--deep", action="store_true", help="have the reasoning model verify each finding")
    parser.add_argument("--lines", metavar="START-END", help="review only these lines (1-based, inclusive)")
    parser.add_argument("--language", default="", help="language id (default: from the file name)")
    parser.add_argument("--json", action="store_true", help="print findings as JSON")
    parser.add_argument("--reasoning", action="store_true", help="also print the models' reasoning text")
    add_model_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        text = read_source(args.file)
        selection = parse_lines(args.lines)
    except (OSError, ValueError) as exc:
        print(f"tandem-lsp review: {exc}", file=sys.stderr)
        return 2
    result = run_task(args, "review", lambda registry: review(registry, text, args.file, language_of(args), selection, args.deep))
    if isinstance(result, int):
        return result
    print(render_json(result) if args.json else render_text(result, args.file, args.reasoning))
    return 0


def render_json(result: ReviewResult) -> str:
    return json.dumps(
        {
            "findings": [asdict(f) for f in result.findings],
            "scope": list(result.scope),
            "verified": result.verified,
            "models": result.models,
            "note": result.note,
            "reasoning": result.reasoning,
        },
        indent=2,
    )


def render_text(result: ReviewResult, path: str, with_reasoning: bool) -> str:
    out = []
    for f in result.findings:
        span = f"{f.start_line + 1}" if f.start_line == f.end_line else f"{f.start_line + 1}-{f.end_line + 1}"
        out.append(f"{path}:{span}: {f.severity}: {f.message} [{f.status}]")
        if f.replacement is not None:
            out.extend(f"    | {line}" for line in f.replacement.splitlines())
    models = ", ".join(f"{role}={name}" for role, name in result.models.items())
    out.append(f"{len(result.findings)} finding(s) on lines {result.scope[0] + 1}-{result.scope[1] + 1} ({models}; {result.note})")
    if with_reasoning and result.reasoning:
        out += ["", "reasoning:", result.reasoning]
    return "\n".join(out)
