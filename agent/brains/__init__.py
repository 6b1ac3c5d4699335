"""Brains decide the next step: openai (any compatible endpoint), offline, scripted."""
