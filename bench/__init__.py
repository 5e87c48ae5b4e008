"""Benchmarks for ATU Facilities: `python -m bench.run` (or `make bench`)."""
