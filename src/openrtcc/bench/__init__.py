"""Benchmarks that run with one command and write their figures to docs/benchmarks.md."""
