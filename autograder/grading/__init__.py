"""The machinery that turns the autograder's tests into a grade: points, results, targets, messages."""
