"""The machinery that turns the autograder's tests into a grade.

- ``plugin``: the pytest plugin (options, hooks, the ``submission`` fixture, where the score is kept);
- ``parallel``: grading in pytest-xdist workers, a part per worker;
- ``isolation``: each test's student code in a confined process of its own, supervised by the harness;
- ``integrity``: noticing and undoing changes that student code makes to the grader's and PyTorch's functions;
- ``target``: which student files are graded, and the one way tests load them;
- ``points``: points, visibility and time limit declared next to each test;
- ``results``: the per-part score table and Gradescope's ``results.json``;
- ``messages``: what a student reads when their code, rather than a check, ends a test;
- ``audit``: a static audit of a submission for the instructor;
- ``hidden``: the points a student handout cannot show (its tests kept for Gradescope).
"""
