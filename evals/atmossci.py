"""AtmosSci-Bench's multiple-choice questions as an eval suite, scored by the option chosen.

The 670 questions (graduate-level atmospheric dynamics and physics, geophysics, hydrology,
oceanography; MIT license) are bundled in ``evals/data/atmossci/`` (any copy of the
``main_1-10.jsonl`` format can be given instead). :func:`write_suite` turns them into task
files, one per question: the question with its lettered options and the request to end with
``Answer: X``, and a checker that gives credit when the answer's last ``Answer: X`` names the
right option (:func:`chosen`), nothing else. The model has the kernel (``run_python``) and
every tool. Run::

    python -m climcopilot.evals.atmossci --to DIR [--limit N] [--from FILE]
    climcopilot eval --suite DIR --brain openai --model M

Only a language model can read these problems: they are not for the offline brain.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from climcopilot.evals.errors import EvalError
from climcopilot.evals.trace import Trace

BUNDLED = Path(__file__).resolve().parent / "data" / "atmossci" / "main_1-10.jsonl"
LETTERS = "ABCD"
ANSWER = re.compile(r"(?i:answer)\W{0,3}(?:(?i:is)\W{0,3})?\(?([A-D])\)?(?!\w)")
FRAMING = "AtmosSci-Bench multiple-choice question (atmospheric science, {kind})."
ASK = ("Work it out; use run_python for any arithmetic. End your reply with one line "
       "'Answer: X', X being the letter of the right option.")


class Item(BaseModel):
    """One multiple-choice question as the benchmark writes it."""

    id: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    problem: str = Field(min_length=5)
    options: list[str] = Field(min_length=4, max_length=4)
    correct_option: str = Field(pattern="^[A-D]$")
    type: str = ""


def read_items(path: Path = BUNDLED) -> list[Item]:
    """The questions of a ``main_1-10.jsonl``-style file (EvalError naming the first bad
    line)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalError(f"cannot read {path}: {exc.strerror}; give an AtmosSci-Bench "
                        "main_1-10.jsonl") from None
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            items.append(Item.model_validate(json.loads(line)))
        except ValueError as exc:
            first = exc.errors()[0] if isinstance(exc, ValidationError) else None
            what = f"{'.'.join(map(str, first['loc']))}: {first['msg']}" if first else \
                "not JSON"
            raise EvalError(f"{path}:{number}: {what}; each line must be one AtmosSci-Bench "
                            "question (id, problem, options, correct_option)") from None
    return items


def question(item: Item) -> str:
    """What the agent is asked: the framing, the problem, the options, the answer format."""
    options = "\n".join(f"{letter}. {' '.join(text.split())}"
                        for letter, text in zip(LETTERS, item.options))
    return (f"{FRAMING.format(kind=item.type or 'general')}\n\n{item.problem.strip()}\n\n"
            f"Options:\n{options}\n\n{ASK}")


def chosen(answer: str) -> str | None:
    """The option an answer chose: the letter of its last ``Answer: X`` (None if none)."""
    found = ANSWER.findall(answer)
    return found[-1] if found else None


def _checker(letter: str) -> Callable[[Trace], float]:
    def check(trace: Trace) -> float:
        return float(chosen(trace.answer) == letter)

    check.__doc__ = f"1 if the answer chose option {letter}, else 0."
    return check


option_a, option_b, option_c, option_d = (_checker(letter) for letter in LETTERS)
"""The checkers of the task files, one per right option."""


def task_toml(item: Item) -> str:
    """The task file of one question (strings written as JSON, which TOML reads)."""
    fields = {"id": f"atmossci_{item.id.lower()}", "level": 2, "family": "benchmark",
              "question": question(item), "timeout_s": 600, "accept_partial": True,
              "checker": f"climcopilot.evals.atmossci:option_{item.correct_option.lower()}"}
    return "".join(f"{key} = {json.dumps(value, ensure_ascii=False)}\n"
                   for key, value in fields.items())


def write_suite(items: list[Item], folder: Path, limit: int | None = None) -> list[Path]:
    """One task file per question (the first ``limit`` of them) in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for item in items[:limit]:
        path = folder / f"atmossci_{item.id.lower()}.toml"
        path.write_text(task_toml(item), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m climcopilot.evals.atmossci",
                                     description="write AtmosSci-Bench as an eval suite")
    parser.add_argument("--to", type=Path, required=True, help="folder for the task files")
    parser.add_argument("--from", dest="source", type=Path, default=BUNDLED,
                        help="a main_1-10.jsonl (default: the bundled copy)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    args = parser.parse_args(argv)
    try:
        written = write_suite(read_items(args.source), args.to, args.limit)
    except EvalError as exc:
        print(f"climcopilot: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(written)} tasks to {args.to}; run: climcopilot eval --suite {args.to} "
          "--brain openai --model MODEL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
