"""Checks the generated task answers independently and writes them as a fixture.

Run:  node --import tsx scripts/reference/lm_tasks_dump.ts | python3 scripts/reference/lm_tasks_check.py
Code questions are executed by Python itself; math questions are re-parsed and recomputed;
multiple-choice questions are solved from the stated facts. Any disagreement exits non-zero.
Writes test/fixtures/reference/lm/tasks.json (the checked examples, to pin reproducibility).
"""

import contextlib
import io
import json
import os
import re
import sys

data = json.load(sys.stdin)


def run_program(src):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(src, {})
    return buf.getvalue().strip()


def math_answer(q):
    m = re.match(r"^\w+ had (\d+) \w+, (.*)\. \w+ now\?$", q)
    total = int(m.group(1))
    for verb, n in re.findall(r"(got|lost) (\d+)", m.group(2)):
        total += int(n) if verb == "got" else -int(n)
    return str(total)


def options(q):
    """The answer to a multiple-choice question is the chosen option as written, "Bo:B"."""
    return dict((name, f"{name}:{letter}") for name, letter in re.findall(r"(\w+):([A-D])\b", q))


MORE = ("older", "taller", "faster")


def reasoning_answer(q):
    facts = re.findall(r"(\w+) is (\w+) than (\w+)\.", q)
    if len(facts) == 1:
        a, word, b = facts[0]
        asked = re.search(r"Who is (\w+)\?", q).group(1)
        return options(q)[a if (word in MORE) == (asked in MORE) else b]
    facts = [(a, b) for a, _, b in facts]
    people = {p for f in facts for p in f}
    losers = {b for _, b in facts}
    winners = {a for a, _ in facts}
    top = (people - losers).pop()
    bottom = (people - winners).pop()
    most = re.search(r"Who is (\w+)\?", q).group(1) in ("oldest", "tallest", "fastest")
    return options(q)[top if most else bottom]


def mixed_answer(q):
    if q.startswith("x="):
        return run_program(q)
    m = re.match(r"^(\w+) had (\d+) \w+, (\w+) had (\d+)\. \w+ got (\d+)\. Who has (more|fewer)\?", q)
    p, np_, qn, nq, gain, ask = m.groups()
    a, b = int(np_) + int(gain), int(nq)
    winner = (p if a > b else qn) if ask == "more" else (p if a < b else qn)
    return options(q)[winner]


checkers = {
    "math": math_answer,
    "math-hard": math_answer,
    "code": run_program,
    "reasoning": reasoning_answer,
    "mixed": mixed_answer,
}
bad = 0
for family, examples in data.items():
    for ex in examples:
        want = checkers[family](ex["question"])
        if want != ex["answer"]:
            bad += 1
            print(f"{family}: {ex['question']!r}: generator says {ex['answer']!r}, check says {want!r}")
if bad:
    sys.exit(1)
out = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "reference", "lm", "tasks.json")
with open(out, "w") as f:
    json.dump({"doc": "first 40 test examples per family, answers checked by lm_tasks_check.py", **data}, f)
print("all", sum(len(v) for v in data.values()), "answers agree; wrote", out)
