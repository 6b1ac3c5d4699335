"""The tools' input models (pydantic only: importing them loads neither torch nor Dask)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from climcopilot.tools.da.vocabulary import METHOD_TERMS, OBS_OPERATOR_TERMS
from climcopilot.tools.emulators.vocabulary import TERMS as SYSTEM_TERMS
from climcopilot.tools.vocabulary import aliased

ModelParams = dict[str, int | float | bool | str]
MethodName = Annotated[Literal["oi", "3dvar", "4dvar", "enkf", "etkf", "denkf", "letkf", "pf",
                               "ensf", "ensf_learned"], aliased(METHOD_TERMS)]
"""A DA method by its key; any alias of :mod:`.vocabulary` is accepted ("3D-Var", "var3d")."""
INFLATED_METHODS = ("enkf", "etkf", "denkf", "letkf", "ensf", "ensf_learned")  # take infl
ROTATED_METHODS = ("etkf", "letkf")  # take rot
ENSEMBLE_METHODS = (*INFLATED_METHODS, "pf")  # take N


class ExperimentInput(BaseModel):
    """The set-up shared by one twin experiment and a sweep of them."""

    model_config = ConfigDict(extra="forbid")

    system: Annotated[str, aliased(SYSTEM_TERMS)] = Field("lorenz96", min_length=1,
                        description="model of the truth (and the forecasts unless "
                                    "forecast_model is given): lorenz63, lorenz96, "
                                    "lorenz96_two_scale, or a plugin model's name")
    system_params: ModelParams = Field(
        default_factory=dict,
        description="overrides of the system's parameters, e.g. {'N': 40, 'F': 8.0} for "
                    "lorenz96; {'K', 'J', 'F', 'h', 'b', 'c'} for lorenz96_two_scale")
    forecast_model: str | None = Field(
        None, min_length=1,
        description="imperfect-model twin: the model the DA methods forecast with (a built-in "
                    "system or a plugin model, e.g. a torch emulator), with the same state "
                    "size as the system; the truth is still simulated with `system`. null = "
                    "the system itself (perfect model)")
    forecast_params: ModelParams = Field(
        default_factory=dict, description="parameters of forecast_model, e.g. {'F': 8.5}")
    dt: float | None = Field(None, gt=0, description="RK4 step in model time units (MTU); "
                             "null = the system's default (0.05 for lorenz96)")
    dko: int = Field(1, ge=1, description="model steps between observations")
    Ko: int = Field(1000, ge=1, le=100_000, description="number of observation cycles")
    obs_var: float = Field(1.0, gt=0, description="observation error variance (state units^2)")
    obs_sites: list[int] | Literal["every_other"] | None = Field(
        None, description="observed state indices: null = all, 'every_other' = 0, 2, 4, ...")
    obs_operator: Annotated[str, aliased(OBS_OPERATOR_TERMS)] = Field(
        "identity", min_length=1,
        description="observation operator applied to each observed site: identity, arctan, "
                    "quadratic (x^2), abs (|x|); or a plugin operator's name (entry-point "
                    "group climcopilot.obs_operators; it maps the whole state, obs_sites null)")
    rot: bool = Field(False, description="random mean-preserving rotation of the ensemble "
                      "anomalies after each analysis (etkf, letkf)")
    loc_rad: float = Field(4.0, gt=0, description="letkf localisation radius in grid points; "
                           "Gaspari-Cohn taper zero beyond 2 x 1.82 x loc_rad")
    xB: float = Field(1.0, gt=0, description="3dvar/4dvar: B = xB x climatological covariance")
    lag: int = Field(1, ge=1, le=50, description="4dvar window length in observation cycles "
                     "(the window slides by one cycle)")
    cold_start: bool = Field(False, description="true: the methods start knowing nothing of "
                             "the truth (ensemble members drawn from the climatology, 3dvar/"
                             "4dvar from its mean), as in Bao et al. (2024); false: from the "
                             "truth's initial state plus N(0, 0.001) noise (DAPPER's X0)")
    sde_steps: int = Field(200, ge=1, le=10_000, description="ensf: Euler-Maruyama steps of "
                           "the reverse SDE per analysis")
    eps_a: float = Field(0.1, gt=0, lt=1, description="ensf: alpha(1) of the forward "
                         "diffusion alpha(t) = 1 - (1 - eps_a) t (how much of the prior is "
                         "left at t = 1)")
    eps_b: float = Field(0.025, ge=0, lt=1, description="ensf: beta^2(0) of the forward "
                         "diffusion beta^2(t) = eps_b + (1 - eps_b) t (noise left at t = 0)")
    prior_weight: float = Field(0.2, ge=0, le=1, description="ensf_learned: weight of the "
                                "learned climatological score in the prior score (the rest "
                                "is the ensemble's Monte Carlo score, as in ensf)")
    train_steps: int = Field(2000, ge=1, le=100_000, description="ensf_learned: Adam steps "
                             "of denoising score matching on the system's climatology (256 "
                             "states each); trained once per set-up in the process")
    allow_large: bool = Field(False, description="run even when a work count (N x Ko x dim, "
                              "model steps Ko x dko, ...) exceeds its limit; such a run may "
                              "take hours")
    burn_in: float | None = Field(
        None, ge=0, description="spin-up excluded from time means, MTU; null = 20 MTU "
                                "(DAPPER's) or half the experiment if shorter")


class TwinInput(ExperimentInput):
    """One twin experiment."""

    method: MethodName = Field("etkf", description="oi, 3dvar, 4dvar (strong constraint), "
                               "enkf (stochastic, perturbed obs), etkf, denkf, letkf, pf, ensf "
                               "(ensemble score filter), ensf_learned (ensf with a learned "
                               "climatological prior score)")
    N: int = Field(20, ge=2, le=10_000, description="ensemble size / number of particles")
    infl: float = Field(1.0, gt=0, le=10, description="multiplicative inflation of the "
                        "ensemble anomalies after each analysis (1 = none)")
    seed: int = Field(0, ge=0, description="random seed of truth, observations and ensemble")
    device: str = Field("auto", description="'auto' (GPU if present), 'cpu' or 'cuda'")
    pf_reg: float | None = Field(
        None, gt=0, le=10, description="pf: jitter after resampling, in units of the "
        "bandwidth N^(-1/(dim+4)); null = by N, tuned on Lorenz-63 (1.6 at N = 100, 0.9 at "
        "800, 0.7 at 4000, linear in log N between and held beyond)")
    pf_ess: float | None = Field(
        None, gt=0, le=1, description="pf: resample when the effective sample size is at most "
        "this fraction of N (DAPPER's NER); null = by N like pf_reg (0.3 at N = 100, 0.2 at "
        "800, 0.05 at 4000)")


class SweepInput(ExperimentInput):
    """A grid of twin experiments (on CPU workers); the set-up fields apply to every run."""

    methods: list[MethodName] = Field(["etkf"], min_length=1, description="DA methods to run")
    Ns: list[int] = Field([20], min_length=1, description="ensemble sizes (ensemble methods)")
    infls: list[float] = Field([1.0], min_length=1,
                               description="multiplicative anomaly inflations to try (> 0)")
    seeds: list[int] = Field([0, 1, 2], min_length=1, description="random seeds per setting")
    address: str | None = Field(None, description="Dask scheduler address (tcp://host:port); "
                                "null = start a LocalCluster on this machine")
    n_workers: int = Field(2, ge=1, le=256, description="LocalCluster worker processes")
