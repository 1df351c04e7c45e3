"""Distributed mode for real; harness.py is also imported by bench/ (python -m bench.latency)."""
