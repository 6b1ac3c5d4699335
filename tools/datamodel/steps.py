"""What was done to a series: the steps recorded in its attributes.

Every transforming tool (subset, season means, detrending, running means, anomalies, EOF
components) appends one plain string to ``attrs["steps"]`` of the DataArray it stores, e.g.
"1980-2000", "JJAS mean per year", "linear trend removed", so that later tools, answers and
figure labels state the settings a number was computed with.
"""

from __future__ import annotations

import xarray as xr


def steps_of(da: xr.DataArray) -> list[str]:
    """The steps recorded on ``da``, oldest first (a netCDF round trip may turn a one-item
    list into a string)."""
    steps = da.attrs.get("steps", [])
    return [steps] if isinstance(steps, str) else [str(s) for s in steps]


def with_step(da: xr.DataArray, step: str, attrs_from: xr.DataArray | None = None
              ) -> xr.DataArray:
    """``da`` carrying the attributes of ``attrs_from`` (default: its own) plus ``step``."""
    source = da if attrs_from is None else attrs_from
    return da.assign_attrs({**source.attrs, "steps": [*steps_of(source), step]})


def settings(da: xr.DataArray) -> str:
    """The steps as one line ('1951-2000; JJAS mean per year'), '' when there are none."""
    return "; ".join(steps_of(da))


def described(da: xr.DataArray) -> str:
    """The series' name with its steps, for summaries: 'All-India rainfall (JJAS mean per
    year)'."""
    name = str(da.attrs.get("long_name", da.name))
    return f"{name} ({settings(da)})" if steps_of(da) else name
