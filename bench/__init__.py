"""devhost's benchmarks: ``python -m bench`` (``--quick`` for tiny sizes); see BENCHMARKS.md."""
