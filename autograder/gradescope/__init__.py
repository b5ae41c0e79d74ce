"""Gradescope and the course workflow: the autograder zip, the student handout, batch grading.

- ``build``: ``python -m autograder.gradescope.build gradescope|handout`` makes
  the zip uploaded to Gradescope or the zip handed to students.
- ``setup.sh`` and ``run_autograder``: the two scripts at the root of the
  Gradescope zip, as Gradescope's "Autograder Specifications" require.
- ``grade``: grades one submission folder and always leaves a ``results.json``;
  ``run_autograder`` and ``batch`` both grade through it.
- ``submission``: finds the part modules among the files a student uploaded.
- ``visibility`` and ``inventory``: which tests the handout leaves out, and the
  manifest of their points that the handout's grader reports.
- ``stubs``: refuses to build a handout whose stubs are no longer stubs.
- ``batch``: ``python -m autograder.gradescope.batch`` grades a folder of
  submissions (or Gradescope's "Export submissions" zip) into a CSV.
"""
