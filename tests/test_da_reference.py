"""Must-show: the Sakov & Oke (2008) Lorenz-96 benchmark against published DAPPER scores.

Lorenz-96, N=40 sites, F=8, RK4 dt=0.05, every site observed every step with error variance 1,
Ko=1000 cycles, burn-in 20 MTU. Expected rmse_a values are the published ones (Sakov & Oke 2008
Table 1 and DAPPER's mods/Lorenz96/sakov2008.py), never our own runs. Median over 3 seeds.
"""

import statistics

import pytest

from climcopilot.tools.base import ToolContext
from climcopilot.tools.registry import get_tool

pytestmark = pytest.mark.slow

SAKOV = {"system": "lorenz96", "obs_var": 1.0, "dko": 1, "Ko": 1000, "device": "cpu"}
SEEDS = (0, 1, 2)

# (tool arguments, published rmse_a, allowed distance below, allowed distance above)
REFERENCE = {
    "etkf": ({"method": "etkf", "N": 24, "infl": 1.013, "rot": True}, 0.18, 0.04, 0.04),
    "enkf": ({"method": "enkf", "N": 40, "infl": 1.06}, 0.22, 0.04, 0.04),
    "denkf": ({"method": "denkf", "N": 40, "infl": 1.01}, 0.18, 0.04, 0.04),
    "letkf": ({"method": "letkf", "N": 7, "infl": 1.04, "loc_rad": 4, "rot": True}, 0.22, 0.04,
              0.04),
    "3dvar": ({"method": "3dvar", "xB": 0.02}, 0.41, 0.04, 0.09),
    "oi": ({"method": "oi"}, 0.95, 0.04, 0.04),
}


def median_rmse_a(tmp_path, args):
    tool = get_tool("da.twin_experiment")
    results = [tool.run({**SAKOV, **args, "seed": s}, ToolContext(workspace=tmp_path))
               for s in SEEDS]
    return statistics.median(r.rmse_a for r in results), results


@pytest.mark.parametrize("name", list(REFERENCE))
def test_sakov2008_reference_score(tmp_path, name):
    args, published, below, above = REFERENCE[name]
    median, results = median_rmse_a(tmp_path, args)
    print(f"{name}: median rmse_a {median:.3f} (published {published})")
    assert published - below <= median <= published + above
    assert all(c.passed for r in results for c in r.checks if c.name != "spread_matches_error")


def test_4dvar_beats_3dvar_on_the_same_experiment(tmp_path):
    three, _ = median_rmse_a(tmp_path, {"method": "3dvar", "xB": 0.02})
    four, results = median_rmse_a(tmp_path, {"method": "4dvar", "xB": 0.01, "lag": 1})
    print(f"4dvar median rmse_a {four:.3f} vs 3dvar {three:.3f}")
    assert four < three - 0.03
    assert all(r.ok for r in results)


PF_SAKOV2012 = {"system": "lorenz63", "method": "pf", "dt": 0.01, "dko": 25, "obs_var": 2.0,
                "Ko": 1000, "device": "cpu"}


def test_pf_default_with_100_particles_does_not_diverge_in_10_seeds(tmp_path):
    # DAPPER's PartFilt(N=100, reg=2.4, NER=0.3) on this set-up: rmse_a 0.38 (sakov2012.py);
    # a diverged run sits far above it (the former PF: 6.24 and 2.81 in 2 of 10 seeds). The
    # default (reg 1.6 with the rank fallback of its kernel) does at least as well.
    tool = get_tool("da.twin_experiment")
    scores = [tool.run({**PF_SAKOV2012, "N": 100, "seed": s}, ToolContext(workspace=tmp_path))
              .rmse_a for s in range(10)]
    print("pf N=100 rmse_a per seed:", [round(r, 3) for r in scores])
    assert max(scores) < 1.0
    assert 0.38 - 0.08 < statistics.median(scores) < 0.38 + 0.02


@pytest.mark.parametrize("N, published", [(300, None), (800, 0.28)])
def test_pf_default_follows_the_tuned_accuracy_at_larger_n(tmp_path, N, published):
    # DAPPER's tuned PartFilt: 0.38 at N = 100 (reg 2.4, NER 0.3), 0.28 at 800 (reg 0.9,
    # NER 0.2); its 100-particle tuning costs accuracy at 800 (0.316), the N-dependent default
    # does not.
    median, results = median_rmse_a(tmp_path, {**PF_SAKOV2012, "N": N})
    print(f"pf N={N}: median rmse_a {median:.3f}")
    assert all(r.ok for r in results)
    if published is None:  # between the tuned values at 100 and 800
        assert 0.28 - 0.03 < median < 0.38
    else:
        assert abs(median - published) < 0.03
