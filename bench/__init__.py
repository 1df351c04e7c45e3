"""Benchmarks, run from the repository root as modules (`.venv/bin/python -m bench.discovery`), so
that they import agent, webui and the test support (tests.kernel_topology, tests.distributed.harness)
as packages; bench/README.md says what each measures."""
