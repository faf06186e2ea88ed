"""Summarise py-spy raw (collapsed) stacks: where the process spends its samples.

    .venv/bin/python tests/perf/pyspy_summary.py docs/perf/raw/radar.collapsed [--top 25]

Prints the share of samples per function, inclusive (the function is anywhere on the stack) and
self (it is the innermost frame), plus the idle share (the event loop waiting in select/epoll)."""

from __future__ import annotations

import argparse
import collections
import pathlib

IDLE = ("select (selectors.py", "_run_once (asyncio/base_events.py")


def summarise(path: pathlib.Path, top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = idle = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = [f.split(":")[0] + ")" if ":" in f else f for f in stack.split(";")]
        total += n
        if "select (selectors.py" in frames[-1]:
            idle += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    out = [f"{path.name}: {total} samples, {100 * idle / max(total, 1):.0f}% idle in select()", "",
           "inclusive %  function (file)"]
    out += [f"{100 * c / total:10.1f}  {f}" for f, c in inclusive.most_common(top)]
    out += ["", "self %      function (file)"]
    out += [f"{100 * c / total:10.1f}  {f}" for f, c in own.most_common(top)]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=pathlib.Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for f in args.files:
        print(summarise(f, args.top))
