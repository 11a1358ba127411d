"""Tests of the benchmarks in benchmarks/ (quality.py, cost.py)."""
