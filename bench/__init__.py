"""Benchmarks: one script per workload; each writes its figures to docs/benchmarks.md."""
