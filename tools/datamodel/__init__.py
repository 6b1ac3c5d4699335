"""How series and fields are laid out, for every family: the time axis (calendar dates or an
age in ka BP), regions and grids, and the steps a transform records in a DataArray's attrs."""
