"""The guard's question: is this an Earth-science question we can work on?

In scope: a question that names something the tools know (:meth:`QuestionSpec.names_something`),
uses a domain word, or is close in meaning to one of the :data:`ANCHORS`.
"""

from __future__ import annotations

import re

import numpy as np

from climcopilot.agent.spec import QuestionSpec

DOMAIN_WORDS = (
    "climate", "weather", "temperature", "precipitation", "rainfall", "monsoon", "ocean",
    "sea surface", "sst", "atmospher", "enso", "el nino", "la nina", "teleconnection",
    "warming", "carbon", "co2", "greenhouse", "sea level", "sea ice", "ice sheet", "glacier",
    "drought", "flood", "cyclone", "hurricane", "wind", "pressure", "humidity", "aerosol",
    "radiation", "cloud", "reanalysis", "era5", "cmip", "paleo", "holocene", "lorenz",
    "kuramoto", "kolmogorov", "assimilation", "enkf", "kalman", "4d-var", "3d-var", "emulator",
    "parameterization", "parameterisation", "pcmci", "granger", "koopman", "oscillation",
    "anomaly", "earth system", "hydrolog", "soil moisture", "permafrost", "jet stream",
    "snow", "arctic", "antarctic", "storm", "heatwave", "heat wave", "geophysic", "nino", "soi",
)
"""Words that make a question Earth science even when it names nothing the tools know."""

ANCHORS = (
    "a question about climate, weather, the ocean or the atmosphere",
    "analysis of Earth-system observations, climate indices or model output",
    "data assimilation, emulation or causal discovery for geophysical dynamical systems",
)
THRESHOLD = 0.27  # cosine similarity to the nearest anchor that counts as in scope


def domain_words(text: str) -> list[str]:
    """The :data:`DOMAIN_WORDS` in plain ``text``."""
    return [w for w in DOMAIN_WORDS if re.search(rf"(?<!\w){re.escape(w)}", text)]


def in_scope(spec: QuestionSpec) -> tuple[bool, str]:
    """(True, "") for Earth-science questions, else (False, a one-line reason)."""
    if spec.names_something() or domain_words(spec.text):
        return True, ""
    from climcopilot.knowledge.embedder import embed

    vectors = embed([spec.text, *ANCHORS])
    similarity = float(np.max(vectors[1:] @ vectors[0]))
    if similarity >= THRESHOLD:
        return True, ""
    return False, ("this does not look like an Earth-science question (climate, weather, "
                   "ocean, data assimilation, emulators, causal discovery); rephrase it or "
                   "name the data or system")
