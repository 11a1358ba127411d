"""Benchmarks of kd_mmdet: student quality (quality.py) and training cost (cost.py)."""
