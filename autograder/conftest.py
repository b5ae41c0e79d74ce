"""Loads the grading plugin for every test in this folder."""

from autograder.grading.plugin import *  # noqa: F401,F403  (pytest finds hooks and fixtures by name)
