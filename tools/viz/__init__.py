"""Labelled figures."""
