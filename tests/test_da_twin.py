"""Short twin experiments through the registered tool: skill, figures, checks, bad input."""

import math
import statistics

import pytest

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.da.inputs import TwinInput
from climcopilot.tools.da.twin import run_twin
from climcopilot.tools.registry import get_tool

SAKOV = {"system": "lorenz96", "obs_var": 1.0, "dko": 1, "device": "cpu"}  # dt 0.05 default


@pytest.fixture
def ctx(tmp_path):
    return ToolContext(workspace=tmp_path)


def run(ctx, **args):
    return get_tool("da.twin_experiment").run({**SAKOV, **args}, ctx)


def test_etkf_tracks_lorenz96_well_below_obs_noise(ctx):
    result = run(ctx, method="etkf", N=24, infl=1.013, rot=True, Ko=400)
    assert result.ok, result.checks
    assert result.rmse_a < 0.25 and result.rmse_a < result.rmse_f
    assert 0.5 < result.spread_a / result.rmse_a < 2
    assert set(result.values) >= {"rmse_a", "rmse_f", "spread_a", "wall_s"}
    assert result.units["wall_s"] == "s"
    (figure,) = result.figures
    assert figure.endswith(".png") and (ctx.workspace / "figures").exists()
    assert result.scored_cycles == 200  # burn-in capped at half of Ko


@pytest.mark.parametrize("method, args, below", [
    ("letkf", {"N": 7, "infl": 1.04, "loc_rad": 4}, 0.3),
    ("denkf", {"N": 40, "infl": 1.01}, 0.25),
    ("enkf", {"N": 40, "infl": 1.06}, 0.3),
    ("3dvar", {"xB": 0.02}, 0.5),
    ("oi", {}, 1.0),
])
def test_methods_beat_observation_noise(ctx, method, args, below):
    result = run(ctx, method=method, Ko=300, **args)
    assert result.rmse_a < below, result.summary
    assert all(c.passed for c in result.checks if c.name != "spread_matches_error")


def test_4dvar_beats_3dvar_on_a_short_run(ctx):
    three = run(ctx, method="3dvar", xB=0.02, Ko=120, seed=2)
    four = run(ctx, method="4dvar", xB=0.01, lag=1, Ko=120, seed=2)
    assert four.rmse_a < three.rmse_a - 0.03


def test_particle_filter_on_lorenz63(ctx):
    result = run(ctx, system="lorenz63", method="pf", N=300, dko=5, Ko=200)
    assert result.ok and result.rmse_a < 0.5


def test_particle_filter_default_with_100_particles_reaches_dappers_tuned_score(ctx):
    # Sakov et al. (2012) Lorenz-63 set-up; DAPPER's PartFilt(N=100, reg=2.4, NER=0.3) gets
    # rmse_a 0.38 (mods/Lorenz63/sakov2012.py); the default (reg 1.6, NER 0.3) as well on every
    # one of 10 seeds, where the former default (reg 1, resample below N_eff = N/2) collapses
    # on some (seed by seed it is no better: the jitter that keeps it alive costs little).
    setup = TwinInput(system="lorenz63", method="pf", N=100, dko=25, dt=0.01, obs_var=2.0,
                      Ko=1000, device="cpu")
    default = [run_twin(setup.model_copy(update={"seed": s})).rmse_a for s in range(10)]
    assert 0.38 - 0.08 < statistics.median(default) and max(default) < 0.38 + 0.03, default
    former = [run_twin(setup.model_copy(update={"seed": s, "pf_reg": 1.0, "pf_ess": 0.5}))
              .rmse_a for s in range(10)]
    assert max(former) > max(default) + 0.1, former


def test_letkf_on_two_scale_lorenz96_with_half_the_slow_sites(ctx):
    result = run(ctx, system="lorenz96_two_scale", method="letkf", N=20, infl=1.05, loc_rad=1,
                 dko=10, Ko=60, obs_sites=[0, 2, 4, 6], burn_in=0.5)
    assert result.ok and result.rmse_a < 0.5 * result.climatological_std, result.checks


def test_a_diverging_filter_is_flagged_not_hidden(ctx):
    result = run(ctx, method="etkf", N=5, infl=1.0, Ko=300)
    failed = {c.name for c in result.checks if not c.passed}
    assert "beats_climatology" in failed and not result.ok


def test_a_blown_up_filter_returns_a_failed_check(ctx):
    result = run(ctx, method="denkf", N=10, infl=5.0, Ko=100)
    finite = next(c for c in result.checks if c.name == "finite")
    assert not finite.passed and "non-finite analysis at cycle" in finite.detail
    assert math.isnan(result.rmse_a) and not result.ok


@pytest.mark.parametrize("args, match", [
    ({"method": "etkf", "N": 1}, "N: Input should be greater than or equal to 2"),
    ({"method": "etkf", "obs_var": -1.0}, "obs_var: Input should be greater than 0"),
    ({"method": "kalman"}, "method: Input should be 'oi', '3dvar'"),
    ({"system": "lorenz84"}, "unknown model 'lorenz84'; known: lorenz63"),
    ({"method": "etkf", "infl": 0}, "infl: Input should be greater than 0"),
    ({"method": "etkf", "obs_sites": [0, 40]}, "distinct indices in 0..39"),
    ({"method": "letkf", "system": "lorenz63"}, "letkf needs a spatial model"),
    ({"method": "enkf", "rot": True}, "rot applies to etkf/letkf"),
    ({"method": "etkf", "pf_reg": 2.0}, "pf_reg and pf_ess apply to the particle filter"),
    ({"method": "3dvar", "infl": 1.1}, "3dvar needs infl=1"),
    ({"method": "etkf", "Ko": 10, "burn_in": 5.0}, "leaves no cycle to score"),
    ({"method": "etkf", "system_params": {"G": 1}}, "no parameter G"),
    ({"method": "etkf", "unknown_field": 1}, "has no argument 'unknown_field'"),
])
def test_bad_input_is_a_clear_error(ctx, args, match):
    with pytest.raises(ToolError, match=match):
        run(ctx, **{"Ko": 20, **args})


def test_schema_documents_units():
    schema = get_tool("da.twin_experiment").openai_schema()["function"]
    props = schema["parameters"]["properties"]
    assert "MTU" in props["dt"]["description"] and "variance" in props["obs_var"]["description"]
    assert "0.18" in schema["description"]
    assert math.isclose(props["obs_var"]["default"], 1.0)


def test_a_filter_no_better_than_climatology_counts_as_diverged(ctx):
    # Without localisation 10 members span fewer than the 14 unstable and neutral directions
    # of Lorenz-96 (Bocquet & Carrassi 2017): the ETKF loses the truth. This seed ends a hair
    # below the climatological std (3.60 vs 3.64), which is no skill, not tracking.
    result = run(ctx, method="etkf", N=10, infl=1.06, rot=True, Ko=1000, seed=0)
    assert result.rmse_a > 0.9 * result.climatological_std
    assert not {c.name: c.passed for c in result.checks}["beats_climatology"]
