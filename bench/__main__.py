"""Run every benchmark (``python -m bench``) or the ones named (``python -m bench dag_parse``)."""

import importlib
import pkgutil
import sys

import bench

names = sys.argv[1:] or sorted(m.name.removeprefix("bench_") for m in pkgutil.iter_modules(bench.__path__)
                               if m.name.startswith("bench_"))
for name in names:
    print(f"\n=== bench_{name} ===", flush=True)
    importlib.import_module(f"bench.bench_{name}").main()
