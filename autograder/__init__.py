"""The pytest autograder: one test file per part, and the plugin that scores them."""
