"""The offline brain and what it routes to: recipes over the typed tools."""

from climcopilot.agent.brains.offline.brain import OfflineBrain as OfflineBrain

__all__ = ["OfflineBrain"]
