"""The benchmark harness of issue 5: `make bench` (see benchmarks/run.py)."""
