"""Work bounds of one twin experiment: over-large runs are refused at once, published ones run."""

import pytest

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.da.inputs import TwinInput
from climcopilot.tools.da.limits import check_work, work_counts
from climcopilot.tools.registry import get_tool

L96 = {"system": "lorenz96"}  # 40 variables
L63_SAKOV2012 = {"system": "lorenz63", "dt": 0.01, "dko": 25, "obs_var": 2.0}

# Every published reproduction (tests/test_da_reference.py) and eval task (evals/tasks/core/
# da_*.toml) with its state size, at Ko = 1000 (the 500-cycle comparison is smaller).
PUBLISHED = [
    ({**L96, "method": "etkf", "N": 24, "infl": 1.013, "rot": True}, 40),
    ({**L96, "method": "etkf", "N": 28, "infl": 1.02, "rot": True}, 40),
    ({**L96, "method": "enkf", "N": 40, "infl": 1.06}, 40),
    ({**L96, "method": "denkf", "N": 40, "infl": 1.01}, 40),
    ({**L96, "method": "letkf", "N": 7, "infl": 1.04, "loc_rad": 4, "rot": True}, 40),
    ({**L96, "method": "letkf", "N": 10, "infl": 1.06, "rot": True}, 40),
    ({**L96, "method": "3dvar", "xB": 0.02}, 40),
    ({**L96, "method": "4dvar", "xB": 0.01, "lag": 1}, 40),
    ({**L96, "method": "oi"}, 40),
    ({**L63_SAKOV2012, "method": "pf", "N": 800}, 3),
    ({**L63_SAKOV2012, "method": "pf", "N": 4000}, 3),  # DAPPER's largest tuned PF
    ({**L63_SAKOV2012, "method": "enkf", "N": 500, "infl": 0.95}, 3),
    ({"system": "lorenz96_two_scale", "method": "letkf", "N": 20, "dko": 10, "Ko": 60}, 264),
    ({**L96, "system_params": {"N": 100}, "method": "ensf", "N": 20, "dt": 0.01, "dko": 10,
      "Ko": 150, "obs_operator": "arctan", "obs_var": 0.0025}, 100),  # Bao et al. (2024)
]


@pytest.mark.parametrize("args, dim", PUBLISHED)
def test_published_set_ups_are_within_the_limits(args, dim):
    run = TwinInput(**{"Ko": 1000, **args})
    check_work(run, dim)
    assert all(c.value * 10 <= c.limit for c in work_counts(run, dim)
               if not (run.method == "pf" and run.N == 4000)), work_counts(run, dim)


@pytest.mark.parametrize("args, message", [
    ({"method": "etkf", "N": 10_000, "Ko": 1000},
     r"N x Ko x dim = 400,000,000 exceeds the limit of 100,000,000; lower N or Ko, or pass "
     r"allow_large=true"),
    ({"method": "3dvar", "Ko": 100_000, "dko": 20}, r"model steps Ko x dko = 2,000,000 exceeds"),
    ({"method": "letkf", "N": 1000, "Ko": 100}, r"N\^3 x dim x Ko = 4,000,000,000,000 exceeds"),
    ({"method": "etkf", "N": 2000, "Ko": 100}, r"N\^3 x Ko = 800,000,000,000 exceeds"),
    ({"method": "4dvar", "lag": 50, "Ko": 1000}, r"lag x Ko x dko = 50,000 exceeds the limit of "
                                                 r"20,000; shorten lag or lower Ko"),
    ({"method": "ensf", "N": 100, "Ko": 1000, "sde_steps": 1000},
     r"N x dim x Ko x sde_steps \(values stepped by the reverse SDE\) = 4,000,000,000 exceeds "
     r"the limit of 2,000,000,000; lower N, Ko or sde_steps"),
    ({"method": "pf", "N": 10_000, "Ko": 1000, "dko": 100, **{"system": "lorenz63"}},
     r"N x dim x Ko x dko \(model values stepped\) = 3,000,000,000 exceeds"),
])
def test_over_large_runs_are_refused_at_once(tmp_path, args, message):
    with pytest.raises(ToolError, match=message):  # before the first cycle, not after hours
        get_tool("da.twin_experiment").run({**L96, "device": "cpu", **args},
                                           ToolContext(workspace=tmp_path))


def test_allow_large_lifts_the_limits():
    run = TwinInput(method="etkf", N=10_000, Ko=1000, allow_large=True)
    check_work(run, 40)  # no error: the caller asked for the long run
    with pytest.raises(ToolError, match="allow_large=true"):
        check_work(run.model_copy(update={"allow_large": False}), 40)
