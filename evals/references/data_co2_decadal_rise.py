"""Reference for data_co2_decadal_rise: mean Mauna Loa CO2 of 1990-1999 minus that of 1960-1969.

Plain pandas on the statsmodels copy of the Keeling & Whorf (2004) weekly record (missing
weeks dropped); nothing from climcopilot is imported. Prints both means and the rise in ppm.
"""

from statsmodels.datasets import co2

s = co2.load_pandas().data["co2"].dropna()
early = s[(s.index.year >= 1960) & (s.index.year <= 1969)].mean()
late = s[(s.index.year >= 1990) & (s.index.year <= 1999)].mean()
print(f"1960s {early:.3f} ppm, 1990s {late:.3f} ppm, rise {late - early:.3f} ppm")
