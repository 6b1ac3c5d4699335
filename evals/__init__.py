"""Evaluation tasks, checkers and the runner."""
