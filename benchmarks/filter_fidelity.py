"""Would the server keep a right answer? The filters and answer checks read with the missing text itself as the model's output.

    python benchmarks/filter_fidelity.py [--situations a,b,c,k] [--examples 3]

No model runs: for every hole of infill_holes.py (QuixBugs programs), the
text that is missing is given to the completion pipeline (filters.postprocess,
then rejected.judged) as if a model had written it, twice: ending there (the
model ended its answer), and going on with the file's next line again (the
model ran on into the code below, which it often does). A hole counts as kept
when what would be shown is that text and nothing rejects it. Every rule that
cuts or rejects right answers shows here in seconds, before an hour of
infill.py; a rule that keeps wrong ones does not (infill.py decides those).
"""

from __future__ import annotations

import argparse
import collections

from bench_common import result_line
from infill_holes import SITUATIONS, Hole, cut_holes
from quixbugs_programs import DEFAULT_DATA

from tandem_lsp.completion.filters import postprocess
from tandem_lsp.completion.rejected import judged
from tandem_lsp.completion.request import CompletionRequest


def model_outputs(hole: Hole, missing: str, rest: str) -> dict[str, str]:
    """The right answer as a model might write it: ended there, or going on into what follows."""
    line_end = rest.find("\n")
    rest_of_line = rest if line_end < 0 else rest[: line_end + 1]
    next_line = "" if line_end < 0 else rest[line_end + 1 :].split("\n", 1)[0] + "\n"
    at_line_start = hole.offset == 0 or hole.text[hole.offset - 1] == "\n"
    # At a line's start the rest of the line is the next line already; elsewhere the next line follows it.
    goes_on = missing + rest_of_line + ("" if at_line_start else next_line)
    return {"ended": missing, "goes_on": goes_on}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--situations", default=",".join(SITUATIONS))
    parser.add_argument("--examples", type=int, default=3, help="holes not kept to print per situation")
    args = parser.parse_args()
    wanted = set(args.situations.split(","))
    counts: collections.Counter = collections.Counter()
    lost: dict[str, list[str]] = collections.defaultdict(list)
    programs = sorted(p for p in (args.data / "correct_python_programs").glob("*.py") if not p.stem.endswith("_test") and p.stem != "node")
    for path in programs:
        source = path.read_text()
        for hole in cut_holes(path.stem, source):
            if hole.situation not in wanted:
                continue
            missing_length = len(source) - len(hole.text)
            missing = source[hole.offset : hole.offset + missing_length]
            rest = source[hole.offset + missing_length :]
            if hole.text != source[: hole.offset] + rest or not missing.strip():
                continue  # not a plain insertion at the cursor
            request = CompletionRequest(text=hole.text, offset=hole.offset, language="python", path=f"/work/{path.stem}.py", document_key=path.stem)
            row = hole.situation + (f".{hole.kind}" if hole.kind else "")
            for how, output in model_outputs(hole, missing, rest).items():
                shown, why = judged(request, postprocess(request, output), "eos")
                counts[row, how] += 1
                if shown.rstrip() == missing.rstrip() and why is None:
                    counts[row, how, "kept"] += 1
                elif len(lost[row]) < args.examples:
                    lost[row].append(f"{path.stem}:{hole.line + 1} ({how}) missing {missing!r}\n    shown {shown!r} {why or ''}")
    rows = sorted({row for row, *_ in counts})
    print(f"{'situation':12} {'holes':>6} {'kept, ended':>12} {'kept, goes on':>14}")
    for row in rows:
        n = counts[row, "ended"]
        print(f"{row:12} {n:6} {counts[row, 'ended', 'kept'] / n:12.3f} {counts[row, 'goes_on', 'kept'] / n:14.3f}")
    for row in rows:
        for example in lost[row]:
            print(f"not kept, {row}: {example}")
    figures = {}
    for row in rows:
        figures[f"kept_{row.replace('.', '_')}"] = counts[row, "ended", "kept"] / counts[row, "ended"]
    print(result_line(**figures))


if __name__ == "__main__":
    main()
