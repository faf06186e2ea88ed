"""python -m loadgen [n]: the summary of n generated items (proportions of docs/domain.md section 9)."""

import json
import sys

from loadgen.generate import generate, summary

print(json.dumps(summary(generate(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000, progress=True)), indent=2))
