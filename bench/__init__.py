"""Benchmarks: each prints its figures against their floors or peers, measured in one run."""
