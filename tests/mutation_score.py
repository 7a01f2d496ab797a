"""Print the mutation score of the last ``mutmut run`` (``make mutation`` calls this after it).

mutmut 3 keeps one JSON ``<module>.py.meta`` file per mutated source under ``mutants/``; its
``exit_code_by_key`` maps each mutant name to the exit code of the test run against it. This
reads those files directly so the score does not depend on mutmut's interactive output.

The score is killed / (killed + survived): mutants caught by a timeout, a crash or the type
checker count as killed; mutants no test covers count as survived; mutants never checked (an
interrupted run) or skipped are left out and reported separately. The command always exits 0:
it reports, the person judges.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger("mutation_score")

MUTANTS_DIR = Path("mutants")

# Exit codes as mutmut 3 records them (mutmut/stats.py), grouped into what the score needs.
KILLED_CODES = {1: "killed", 3: "killed", 36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout"}
KILLED_CODES |= {255: "timeout", -11: "segfault", -9: "segfault", 37: "caught by type check"}
SURVIVED_CODES = {0: "survived", 5: "no tests", 33: "no tests"}
LEFT_OUT_CODES = {None: "not checked", 34: "skipped", 2: "interrupted"}


@dataclass
class MutationScore:
    """Counts of one mutmut run and the names of the mutants that no test killed."""

    statuses: Counter[str] = field(default_factory=Counter)
    killed: int = 0
    survived: int = 0
    left_out: int = 0
    surviving: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.killed + self.survived + self.left_out

    @property
    def score(self) -> float | None:
        judged = self.killed + self.survived
        return self.killed / judged if judged else None

    def add(self, mutant: str, exit_code: int | None) -> None:
        if exit_code in KILLED_CODES:
            self.killed += 1
            self.statuses[KILLED_CODES[exit_code]] += 1
        elif exit_code in SURVIVED_CODES:
            self.survived += 1
            self.statuses[SURVIVED_CODES[exit_code]] += 1
            self.surviving.append(mutant)
        elif exit_code in LEFT_OUT_CODES:
            self.left_out += 1
            self.statuses[LEFT_OUT_CODES[exit_code]] += 1
        else:  # mutmut calls any other code "suspicious": the tests misbehaved, nothing was proven
            self.survived += 1
            self.statuses["suspicious"] += 1
            self.surviving.append(mutant)


def read_score(mutants_dir: Path = MUTANTS_DIR) -> MutationScore:
    """Sum every ``*.meta`` file of a mutmut 3 run found under ``mutants_dir``."""
    result = MutationScore()
    for meta_path in sorted(mutants_dir.rglob("*.meta")):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            logger.warning("cannot read mutmut results from %s: %s", meta_path, error)
            continue
        for mutant, exit_code in sorted(meta.get("exit_code_by_key", {}).items()):
            result.add(mutant, exit_code)
    return result


def render(result: MutationScore) -> str:
    """The report a person reads: counts, the score, then every surviving mutant."""
    if result.total == 0:
        return f"no mutmut results under {MUTANTS_DIR}/ (run `mutmut run` first)"
    score = "n/a" if result.score is None else f"{result.score:.1%}"
    lines = [
        f"mutants: {result.total}  killed: {result.killed}  survived: {result.survived}"
        f"  not judged: {result.left_out}",
        "by status: " + ", ".join(f"{status} {count}" for status, count in sorted(result.statuses.items())),
        f"mutation score: {score}",
    ]
    if result.surviving:
        lines.append("surviving mutants (inspect with `mutmut show <name>`):")
        lines.extend(f"  {name}" for name in result.surviving)
    return "\n".join(lines)


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    sys.stdout.write(render(read_score()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
