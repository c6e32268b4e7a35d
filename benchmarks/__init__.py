"""Benchmarks of dynapurls_ros: each module prints the figures it claims.

Run them from the repository root as modules, e.g. ``python -m benchmarks.transfer``;
they use the package's public API and share :mod:`benchmarks.common`.
"""
