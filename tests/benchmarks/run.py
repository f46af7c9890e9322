"""Run every benchmark and print each figure against its reference, measured in this run.

python -m tests.benchmarks.run [NAME ...]     (NAME: model, sync, discovery, ui, history, ...)
"""

from __future__ import annotations

import importlib
import sys
import time

from tests.benchmarks.common import HEADER, Row

SUITES = {
    "model": "tests.benchmarks.bench_model",
    "sync": "tests.benchmarks.bench_sync",
    "discovery": "tests.benchmarks.bench_discovery",
    "ui": "tests.benchmarks.bench_ui",
    "update_check": "tests.benchmarks.bench_update_check",
    "relay_crowd": "tests.benchmarks.bench_relay_crowd",
    "history": "tests.benchmarks.bench_history",
    "type_depths": "tests.benchmarks.bench_type_depths",
}


def rows_of(module_name: str) -> list[Row]:
    module = importlib.import_module(module_name)
    result = module.run()
    if isinstance(result, dict):  # a module that reports a plain dict
        if "name" in result:
            return [Row(**result)]
        raise TypeError(f"{module_name}.run() returned a dict the runner cannot read")
    return list(result)


def main(names: list[str]) -> int:
    chosen = names or list(SUITES)
    unknown = [n for n in chosen if n not in SUITES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(SUITES)}")
        return 2
    print(HEADER)
    over = 0
    for name in chosen:
        start = time.perf_counter()
        try:
            rows = rows_of(SUITES[name])
        except ModuleNotFoundError as exc:
            print(f"{name}: skipped ({exc})")
            continue
        for row in rows:
            print(row.line(), flush=True)
            over += row.target is not None and row.ratio > row.target
        print(f"  ({name}: {time.perf_counter() - start:.1f}s)")
    print(f"\n{over} figure(s) over target" if over else "\nall figures within target")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
