"""Test support shared with bench/: tests.kernel_topology (real namespaces), tests.distributed.harness
(real processes), tests.browser, tests.factories; import them from the repository root."""
