"""The thorough tests, graded on Gradescope only: never in the student handout.

Each ``test_part<N>_<name>.py`` here holds the tests of part N whose checks
would reveal an answer if a student could read them (randomised comparisons
with torchvision, mistake-by-mistake probes, the grader's own reference
computations), each declared with a visibility other than ``"visible"``.
The build of the handout leaves this whole folder out and records the points
it holds (``autograder/hidden_points.json``), so that a student's local
score table says how many points only Gradescope grades. The public tests of
the same part are ``autograder/test_part<N>_<name>.py``.
"""
