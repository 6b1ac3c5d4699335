"""Reference for the dev tasks on the yearly sunspot number (statsmodels' sunspots table,
1700-2008): the cycle length, the peak year, the 1900-2000 mean and the lag-5
autocorrelation.

pandas/numpy only (dev_package_files.py); nothing from climcopilot. The period is the
largest peak of a numpy periodogram (linear trend removed, Hann taper, |FFT|^2) over the
Fourier periods 309 / k years. Runs in a second.
"""

import numpy as np
from dev_package_files import acf, detrended, sunspots
from dev_report import report

spots = sunspots()
power = (np.abs(np.fft.rfft(detrended(spots.to_numpy()) * np.hanning(spots.size))) ** 2)[1:]
periods = 1 / np.fft.rfftfreq(spots.size, 1.0)[1:]
k = int(np.argmax(power))
report("dev_sunspots_cycle_length", "dominant_period", float(periods[k]),
       f"years; the neighbouring Fourier periods {periods[k - 1]:.2f} and {periods[k + 1]:.2f} "
       f"have {power[k - 1] / power[k]:.2f} and {power[k + 1] / power[k]:.2f} of its power")
report("dev_sunspots_peak_year", "year_of_max", float(spots.idxmax()),
       f"of {spots.size} yearly values")
report("dev_sunspots_peak_year", "max_value", float(spots.max()), "sunspot number")
report("dev_sunspots_mean_1900_2000_followup", "mean", float(spots.loc[1900:2000].mean()),
       f"{spots.loc[1900:2000].size} years 1900-2000; the whole record (the question before) "
       f"{spots.mean():.2f}")
report("dev_sunspots_acf_lag5_terse", "acf", acf(spots.to_numpy(), 5),
       f"lags 4 and 6: {acf(spots.to_numpy(), 4):+.4f}, {acf(spots.to_numpy(), 6):+.4f}")
