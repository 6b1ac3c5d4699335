"""The guard's question: is this an Earth-science question we can work on?"""

from __future__ import annotations

import numpy as np

from climcopilot.agent.entities import Entities
from climcopilot.knowledge.embedder import embed

ANCHORS = (
    "a question about climate, weather, the ocean or the atmosphere",
    "analysis of Earth-system observations, climate indices or model output",
    "data assimilation, emulation or causal discovery for geophysical dynamical systems",
)
THRESHOLD = 0.27  # cosine similarity to the nearest anchor that counts as in scope


def in_scope(question: str, entities: Entities) -> tuple[bool, str]:
    """(True, "") for Earth-science questions, else (False, a one-line reason)."""
    if entities.series or entities.domain_words:
        return True, ""
    vectors = embed([question, *ANCHORS])
    similarity = float(np.max(vectors[1:] @ vectors[0]))
    if similarity >= THRESHOLD:
        return True, ""
    return False, ("this does not look like an Earth-science question (climate, weather, "
                   "ocean, data assimilation, emulators, causal discovery); rephrase it or "
                   "name the data or system")
