"""Reference for the dev causal tasks on the bundled indices: what leads Nino-3 and Nino-3.4
(PCMCI over the other monthly series), Granger tests of SOI -> All-India rainfall and of
sunspots -> HadCRUT5, and the common period of the SOI and Nino-3.4.

tigramite and statsmodels directly (dev_causal_pcmci.py) on the package files read with
pandas (dev_package_files.py); nothing from climcopilot. The "what leads X" procedure is the
one docs/causal.md describes, written here from that description: X and the other monthly
series (SOI, All-India rainfall, Nino-3, Nino-3.4, ONI, Nino-1+2, in the catalog's order) on
their common months; each minus a least-squares fit of a linear trend and one mean per
calendar month; a candidate whose lag-0 |r| with X or with a kept candidate exceeds 0.8 left
out; PCMCI (ParCorr, tau_max 6, pc_alpha 0.05, FDR 0.05 by family); a driver's lead is the lag
of its strongest link (smallest q, then largest |MCI|) into X. About 30 s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from dev_causal_pcmci import pcmci, var_granger_summary
from dev_package_files import (
    detrended,
    hadcrut5,
    nino12,
    oni_table,
    soi,
    sunspots,
    torrence_compo,
)
from dev_report import report

MONTHLY = {"soi": soi(), "air": torrence_compo("air"), "nino3": torrence_compo("nino"),
           "nino34": oni_table("NINO34_ANOM"), "oni": oni_table("ONI"), "nino12": nino12()}


def trend_and_cycle_removed(s: pd.Series) -> np.ndarray:
    t = np.linspace(0.0, 1.0, s.size)
    design = np.column_stack([t, s.index.month.to_numpy()[:, None] == np.arange(1, 13)])
    coef, *_ = np.linalg.lstsq(design.astype(float), s.to_numpy(), rcond=None)
    return s.to_numpy() - design.astype(float) @ coef


def what_leads(task: str, target: str) -> None:
    names = [target, *(k for k in MONTHLY if k != target)]
    table = pd.concat([MONTHLY[k] for k in names], axis=1, join="inner").dropna()
    x = np.column_stack([trend_and_cycle_removed(table.iloc[:, i]) for i in range(len(names))])
    r = np.corrcoef(x, rowvar=False)
    keep = [0]
    for j in range(1, len(names)):
        if all(abs(r[j, k]) <= 0.8 for k in keep):
            keep.append(j)
    kept = [names[k] for k in keep]
    res = pcmci(x[:, keep], tau_max=6, pc_alpha=0.05)
    q, value = res.q, res.value
    report(task, "n_time", float(len(table)),
           f"months {table.index[0]} to {table.index[-1]}; kept {', '.join(kept)}")
    for i, source in enumerate(kept[1:], start=1):
        lags = [tau for tau in range(1, 7) if res.significant[i, 0, tau]]
        if not lags:
            print(f"  {source} does not lead {target}")
            continue
        best = min(lags, key=lambda tau: (q[i, 0, tau], -abs(value[i, 0, tau])))
        report(task, f"lead_{source}", float(best),
               f"months; {source} -> {target} significant at lags {lags}, strongest at {best}")
        report(task, f"mci_{source}", float(value[i, 0, best]), f"q {q[i, 0, best]:.2g}")


what_leads("dev_causal_what_drives_nino3", "nino3")
what_leads("dev_causal_what_leads_nino34_terse", "nino34")

both = pd.concat([MONTHLY["soi"], MONTHLY["nino34"]], axis=1, join="inner").dropna()
report("dev_causal_soi_nino34_followup", "n_time", float(len(both)),
       f"months {both.index[0]} to {both.index[-1]} (SOI vs Nino-3 had 636)")

both = pd.concat([MONTHLY["soi"], MONTHLY["air"]], axis=1, join="inner").dropna()
found = var_granger_summary(both.to_numpy(), max_lag=6)
report("dev_causal_soi_air_granger", "n_cross_links", float(found.sum()),
       f"VAR order by AIC up to 6, F-tests, BH over 2 pairs; SOI -> rain {found[0, 1]}, "
       f"rain -> SOI {found[1, 0]}; {len(both)} months")
report("dev_causal_soi_air_granger", "n_time", float(len(both)), "months 1951-2003")

spots = pd.concat([sunspots(), hadcrut5()], axis=1, join="inner").dropna()
x = np.column_stack([detrended(spots.iloc[:, 0]), detrended(spots.iloc[:, 1])])
found = var_granger_summary(x, max_lag=3)
undetrended = var_granger_summary(spots.to_numpy(), max_lag=3)
report("dev_causal_sunspots_hadcrut5_granger", "n_cross_links", float(found.sum()),
       f"both linearly detrended, VAR order by AIC up to 3; sunspots -> GMST {found[0, 1]}, "
       f"GMST -> sunspots {found[1, 0]}; without detrending {int(undetrended.sum())} "
       f"(GMST -> sunspots {undetrended[1, 0]}: the shared trend)")
report("dev_causal_sunspots_hadcrut5_granger", "n_time", float(len(spots)),
       f"years {spots.index[0]}-{spots.index[-1]}")
