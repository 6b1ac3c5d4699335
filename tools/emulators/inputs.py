"""The emulator tools' input models (pydantic only: importing them does not load torch)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from climcopilot.tools.emulators.vocabulary import TERMS
from climcopilot.tools.vocabulary import aliased

SystemName = Annotated[Literal["lorenz63", "lorenz96", "lorenz96_two_scale",
                               "kuramoto_sivashinsky", "kolmogorov"], aliased(TERMS)]
"""A built-in system by its key; any alias of :mod:`.vocabulary` is accepted ("L96", "KS")."""
PARAMETER_NAMES = ("N", "F", "sigma", "rho", "beta", "K", "J", "h", "b", "c", "L", "Re",
                   "forcing_wavenumber", "drag")


class SystemSpec(BaseModel):
    """Which system, with its parameters as top-level fields (null = the system's default)."""

    model_config = ConfigDict(extra="forbid")

    system: SystemName = Field("lorenz96", description="lorenz63, lorenz96, "
                               "lorenz96_two_scale, kuramoto_sivashinsky (PDE) or kolmogorov "
                               "(2-D PDE)")
    N: int | None = Field(None, description="lorenz96: sites on the ring (40); "
                          "kuramoto_sivashinsky: grid points (64); kolmogorov: grid points per "
                          "side (64)")
    F: float | None = Field(None, description="forcing: lorenz96 (8), lorenz96_two_scale (20), "
                            "kolmogorov body-force amplitude (1)")
    sigma: float | None = Field(None, description="lorenz63: sigma (10)")
    rho: float | None = Field(None, description="lorenz63: rho (28)")
    beta: float | None = Field(None, description="lorenz63: beta (8/3)")
    K: int | None = Field(None, description="lorenz96_two_scale: slow variables (8)")
    J: int | None = Field(None, description="lorenz96_two_scale: fast variables per slow (32)")
    h: float | None = Field(None, description="lorenz96_two_scale: coupling (1)")
    b: float | None = Field(None, description="lorenz96_two_scale: spatial-scale ratio (10)")
    c: float | None = Field(None, description="lorenz96_two_scale: time-scale ratio (10)")
    L: float | None = Field(None, description="kuramoto_sivashinsky: domain length (22)")
    Re: float | None = Field(None, description="kolmogorov: Reynolds number 1/viscosity (40)")
    forcing_wavenumber: int | None = Field(None, description="kolmogorov: n of the forcing "
                                           "F sin(n y) (4)")
    drag: float | None = Field(None, description="kolmogorov: linear drag rate (0)")
    dt: float | None = Field(None, gt=0, description="time step in model time units (MTU), RK4 "
                             "for the ODEs and ETDRK4 for the PDEs; null = the system's default "
                             "(0.01 lorenz63, 0.05 lorenz96, 0.005 lorenz96_two_scale, 0.25 "
                             "kuramoto_sivashinsky, 0.02 kolmogorov)")

    def system_params(self) -> dict[str, Any]:
        """The parameters that were set, for ``get_system``."""
        return {name: getattr(self, name) for name in PARAMETER_NAMES
                if getattr(self, name) is not None}


class WorkLimits(BaseModel):
    """The switch past the work limits of :mod:`.limits`."""

    allow_large: bool = Field(False, description="run even past the work limits (1,000,000 "
                              "solver steps per trajectory, 1e10 members x steps x variables, "
                              "2.5e8 stored values, 5e7 training sample steps); without it a "
                              "larger request is an error saying what to lower")


class LyapunovInput(SystemSpec, WorkLimits):
    """A Lyapunov spectrum by the QR (Benettin) method."""

    n_exponents: int | None = Field(None, ge=1, description="how many of the largest exponents "
                                    "(null = all for the ODEs, 16 kuramoto_sivashinsky, 4 "
                                    "kolmogorov; the Kaplan-Yorke dimension needs enough)")
    duration: float | None = Field(None, gt=0, le=100_000, description="averaging time per "
                                   "member, MTU; null = the system's default (400; "
                                   "kuramoto_sivashinsky 4000, kolmogorov 50)")
    transient: float | None = Field(None, ge=0, description="spin-up onto the attractor, and "
                                    "again for the tangent vectors to align, MTU; null = the "
                                    "system's default (10; kuramoto_sivashinsky 100, "
                                    "kolmogorov 50)")
    members: int = Field(8, ge=1, le=1024, description="independent trajectories averaged")
    seed: int = Field(0, ge=0, description="seed of the initial states and tangent vectors")
    device: str = Field("auto", description="'auto' (GPU if present), 'cpu' or 'cuda'")


class SimulateInput(SystemSpec, WorkLimits):
    """A trajectory of a system, kept in the session as an xarray Dataset."""

    duration: float = Field(50.0, gt=0, le=1_000_000, description="length after spin-up, MTU")
    spinup: float | None = Field(None, ge=0, description="discarded spin-up onto the "
                                 "attractor, MTU; null = the system's default (10; "
                                 "kuramoto_sivashinsky 100, kolmogorov 50)")
    every: int | None = Field(None, ge=1, description="keep every this many steps; null = the "
                              "system's default (1; kuramoto_sivashinsky 4, kolmogorov 25)")
    members: int = Field(1, ge=1, le=100_000, description="independent trajectories")
    seed: int = Field(0, ge=0, description="seed of the initial perturbation")
    handle: str = Field("trajectory", description="name of the Dataset in the session")
    device: str = Field("auto", description="'auto' (GPU if present), 'cpu' or 'cuda'")


class TrainInput(SystemSpec, WorkLimits):
    """Train an emulator on simulated data (simulated here unless ``dataset`` is given)."""

    dataset: str | None = Field(None, description="handle of an emulators.simulate Dataset to "
                                "train on; null = simulate `duration` x `members` here")
    kind: Literal["cnn", "mlp", "koopman"] = Field(
        "cnn", description="cnn: local convolutions on a periodic ring (lorenz96, "
        "kuramoto_sivashinsky); mlp: the whole state; koopman: an autoencoder with linear "
        "latent dynamics (encoder -> K -> decoder)")
    width: int = Field(32, ge=1, le=4096, description="cnn channels / mlp and koopman hidden "
                       "units")
    layers: int = Field(3, ge=1, le=12, description="hidden layers (koopman: per encoder and "
                        "per decoder)")
    latent: int = Field(32, ge=1, le=4096, description="koopman: learned observables "
                        "appended to the state in the latent space")
    rollout_steps: int = Field(1, ge=1, le=100, description="autoregressive steps in the loss "
                               "(1 = one-step training)")
    every: int = Field(1, ge=1, description="solver steps between input and target states")
    duration: float = Field(200.0, gt=0, le=100_000, description="simulated MTU per member")
    members: int = Field(4, ge=1, le=1024, description="independent training trajectories")
    epochs: int = Field(15, ge=1, le=1000, description="most passes over the training pairs")
    batch_size: int = Field(128, ge=1, le=65536, description="pairs per optimiser step")
    lr: float = Field(3e-3, gt=0, le=1, description="Adam learning rate (cosine-annealed)")
    patience: int = Field(5, ge=1, description="epochs without a better validation loss "
                          "before stopping")
    val_fraction: float = Field(0.2, gt=0, lt=1, description="last part of every trajectory "
                                "held out for validation (split in time)")
    time_limit_s: float = Field(280.0, gt=0, description="stop training after this wall time")
    seed: int = Field(0, ge=0, description="seed of the data and the network")
    handle: str = Field("emulator", description="name of the emulator in the session and of "
                        "its file models/<handle>.pt in the workspace")


class EvaluateInput(WorkLimits):
    """Score an emulator against the true system, persistence and climatology: a trained one
    (``model``) or any built-in or plugin model (``forecast_model``)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field("emulator", description="handle of an emulator from "
                              "emulators.train; leave it out when forecast_model is given")
    forecast_model: str | None = Field(
        None, min_length=1, description="instead of model: a built-in system or a plugin "
        "model's name (e.g. a torch emulator such as 'l96_cnn'), scored with one step of its "
        "default dt per lead against `system`")
    forecast_params: dict[str, int | float | bool | str] = Field(
        default_factory=dict, description="parameters of forecast_model, e.g. {'F': 8.5}")
    system: SystemName | None = Field(None, description="with forecast_model: the true system "
                                      "(null = lorenz96); with model: null (the trained "
                                      "system)")
    system_params: dict[str, int | float] = Field(
        default_factory=dict, description="the truth's parameters: overrides of the trained "
        "system's (model) or of `system`'s defaults (forecast_model), e.g. {'F': 10}; a state "
        "size other than the emulator's is an error")
    lead_time: float = Field(8.0, gt=0, le=1000, description="longest forecast lead, MTU")
    n_starts: int = Field(200, ge=2, le=100_000, description="independent forecast starts")
    climate_duration: float = Field(50.0, gt=0, le=100_000, description="free-run length per "
                                    "member for the climate statistics, MTU")
    seed: int = Field(1000, ge=0, description="seed of the test states (differ from training)")


class HybridInput(WorkLimits):
    """A learned subgrid closure for two-scale Lorenz-96, scored offline and online."""

    model_config = ConfigDict(extra="forbid")

    K: int | None = Field(None, description="slow variables (8)")
    J: int | None = Field(None, description="fast variables per slow variable (32)")
    F: float | None = Field(None, description="forcing (20)")
    h: float | None = Field(None, description="coupling (1)")
    b: float | None = Field(None, description="spatial-scale ratio (10)")
    c: float | None = Field(None, description="time-scale ratio (10)")
    dt: float = Field(0.005, gt=0, description="RK4 step of truth and one-level model, MTU")
    sample_every: int = Field(10, ge=1, description="RK4 steps between samples (0.05 MTU)")
    train_duration: float = Field(50.0, gt=0, le=100_000, description="truth MTU per member "
                                  "for learning the closure")
    online_duration: float = Field(50.0, gt=0, le=100_000, description="MTU per member of "
                                   "the independent truth and of the one-level runs")
    members: int = Field(4, ge=1, le=1024, description="independent trajectories")
    seed: int = Field(0, ge=0, description="seed of the truth runs, the fit and the noise")

    def system_params(self) -> dict[str, Any]:
        """The parameters that were set, for ``get_system``."""
        return {name: getattr(self, name) for name in ("K", "J", "F", "h", "b", "c")
                if getattr(self, name) is not None}
