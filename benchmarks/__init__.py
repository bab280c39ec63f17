"""trustsim's benchmark suite: run ``python -m benchmarks`` from the project root.

Every figure is a ratio against a reference measured in the same run (a bare numpy
kernel, Mesa's own example model, a bare interpreter), so results from different
machines can be compared. See ``benchmarks/README.md``.
"""
