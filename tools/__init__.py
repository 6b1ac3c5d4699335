"""Typed scientific tools, by family: data, analysis, viz, emulators, da, causal.

A plugin imports what it needs from :mod:`climcopilot.tools.sdk`; this package's top imports
nothing, so loading one family does not load the others.
"""
