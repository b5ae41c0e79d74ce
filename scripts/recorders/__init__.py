"""One recorder per part with public checks on recorded data: ``part<N>_<name>.py``.

Each defines ``record(solution, mistake) -> dict``: the cases of its public
tests (inputs, the solution's output, fingerprints of mistakes), computed
with ``solution`` (the module in ``solutions/``) and ``mistake(name)`` (the
solution with the edit of the mutant called ``name`` in ``tests/mutants/``
applied). ``scripts/record_expectations.py`` writes what it returns to
``autograder/recorded/part<N>_<name>.json``.
"""
