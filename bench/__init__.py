"""Benchmarks, run on demand with ``make bench`` (never part of ``make test``).

Each ``bench/bench_*.py`` has a ``main()`` that prints its figures beside a baseline measured in the same run.
"""
