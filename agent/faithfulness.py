"""Faithfulness: every number an answer states must trace to something the run produced or
was given: a value or field of a step's result, a step's argument, the question itself, or a
number reused from a verified finding; as written (to the digits shown) or through a unit
conversion the answer may make (x10 per decade and per year, x100 fraction and per cent,
x1000 ka and years). A number with no such source is named, and the answer is unverified."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

NUMBER = re.compile(r"(?<![\w.+-])[-+−]?\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?(?![\w+]|\.\d)")
CONVERSIONS = (1.0, 10.0, 0.1, 100.0, 0.01, 1000.0, 0.001)
# Numbers that point at something rather than state a value: "step 3", "steps 1-2",
# "question 2", "figure 1", and the markers of a numbered list.
REFERENCE = re.compile(r"(?i)\b(?:steps?|questions?|cells?|figures?|fig\.|tables?|sections?)"
                       r"\s+\d+(?:\s*(?:[-–,&]|and|to)\s*\d+)*|^[ \t]*\d+[.)](?=\s)", re.M)


def numbers_in(value: Any) -> list[float]:
    """Every number in ``value``: numbers themselves, and numbers written in its strings,
    through nested lists and dicts."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)] if math.isfinite(value) else []
    if isinstance(value, str):
        return [n for n, _ in written(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in numbers_in(v)]
    if isinstance(value, list | tuple):
        return [n for v in value for n in numbers_in(v)]
    return []


def written(text: str) -> list[tuple[float, float]]:
    """The numbers a text states, each with the half-width of its last written digit (how
    precisely it was written). Digits inside names (HadCRUT5, Niño-3.4, CO2, 3D-Var) do not
    count."""
    found = []
    for m in NUMBER.finditer(text):
        token = m.group(0).replace("−", "-").replace(",", "")
        mantissa, _, exponent = token.lower().partition("e")
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        scale = 10.0 ** int(exponent) if exponent else 1.0
        try:
            found.append((float(token), 0.5 * 10.0 ** -decimals * scale))
        except ValueError:
            continue
    return found


def _matches(number: float, precision: float, sources: Iterable[float]) -> bool:
    for source in sources:
        for factor in CONVERSIONS:
            value = source * factor
            if abs(number - value) <= precision * 1.0001 + 1e-12 or (
                    value and abs(number - value) <= 0.005 * abs(value)):
                return True
    return False


def unsourced(answer: str, sources: Iterable[float]) -> list[str]:
    """The numbers of ``answer`` (as written) that match no source, in order; references
    (step 3, figure 1, list markers) state no value and are skipped."""
    answer = REFERENCE.sub(lambda m: " " * len(m.group(0)), answer)
    known = list(sources)
    magnitudes = {abs(k) for k in known}
    missing = []
    for m in NUMBER.finditer(answer):
        token = m.group(0)
        [(number, precision)] = written(token) or [(None, 0.0)]
        if number is None or abs(number) in magnitudes:
            continue
        if not _matches(abs(number), precision, magnitudes):
            missing.append(token)
    return list(dict.fromkeys(missing))
