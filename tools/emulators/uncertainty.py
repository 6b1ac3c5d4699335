"""Two-scale Lorenz-96 closures with predictive uncertainty and memory, and a multi-fidelity
closure that extrapolates to a larger forcing.

The closure predicts the subgrid tendency ``U_k = -(h c / b) sum_j Y_{j,k}`` of slow variable k
from ``X_k`` now and ``memory`` past samples of it (the same function at every k). Its
uncertainty is an ensemble of ``members`` networks trained at once, each giving a Gaussian
mean and standard deviation, trained on the Gaussian negative log-likelihood of its own
Poisson-bootstrap weighting of the pairs (each pair counted Poisson(1) times):

* ``ensemble``: deep ensembles (Lakshminarayanan et al. 2017), members differ by their
  random initial weights and bootstrap weights;
* ``randomized_prior``: randomized prior networks (Osband et al. 2018), each member's mean
  adds a fixed, untrained random network times ``prior_scale``, so members disagree where
  the data do not constrain them.

The predictive distribution is the members' mixture, summarised by a Gaussian of the same
mean and variance; its 90 % interval is mean +- z_0.95 std.

Multi-fidelity (Meng & Karniadakis 2020; Bhouri et al. 2023): the low-fidelity data come from
a cheaper physical model, the two-scale model with ``lf_J`` fast variables per slow one (its
coupling ``h sqrt(J / lf_J)`` keeps the closure's linear response), run at both the training
forcing F and the test forcing F_test; the high-fidelity data are ``hf_pairs`` pairs of the
full model at F only. The multi-fidelity closure is the low-fidelity ensemble's mean plus a
correction network of (inputs, low-fidelity mean) learned on the high-fidelity pairs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
import torch
import xarray as xr
from matplotlib.figure import Figure
from pydantic import Field
from scipy.stats import norm
from torch import Tensor, nn

from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.emulators.hybrid import subgrid_tendency
from climcopilot.tools.emulators.inputs import HybridInput
from climcopilot.tools.emulators.limits import check_training
from climcopilot.tools.emulators.simulate import sample_count, simulate_states
from climcopilot.tools.emulators.systems import Lorenz96TwoScale, cpu_threads, resolve_device
from climcopilot.tools.emulators.vocabulary import UNCERTAINTY_METHODS
from climcopilot.tools.viz.figures import save_figure
from climcopilot.tools.vocabulary import aliased

Method = Literal["ensemble", "randomized_prior"]
LEVEL = 0.90  # nominal coverage of the predictive intervals
Z_LEVEL = float(norm.ppf(0.5 + LEVEL / 2))  # 1.645
FIDELITIES = ("low_fidelity", "high_fidelity", "multi_fidelity")


def memory_features(x: Tensor, u: Tensor, memory: int) -> tuple[Tensor, Tensor]:
    """Inputs (n, memory + 1): X_k at lags 0..memory samples, and targets U_k (n,), pooled
    over members, times from ``memory`` on, and k; ``x``, ``u`` (members, time, K)."""
    steps = x.shape[1] - memory
    if steps < 1:
        raise ToolError(f"memory {memory} needs more than {memory} samples per run: lengthen "
                        "the durations or lower memory")
    lags = [x[:, memory - lag: memory - lag + steps] for lag in range(memory + 1)]
    return torch.stack(lags, -1).reshape(-1, memory + 1), u[:, memory:].reshape(-1)


class EnsembleNet(nn.Module):
    """``members`` MLPs (inputs -> width -> width -> 2, tanh) evaluated at once: z (n, inputs)
    -> mean and std (members, n), in normalised units; ``prior_scale`` > 0 adds a fixed random
    network of the same shape to each member's mean."""

    def __init__(self, members: int, inputs: int, width: int, prior_scale: float) -> None:
        super().__init__()
        sizes = [(inputs, width), (width, width), (width, 2)]
        trained = self._init(members, sizes)
        self.weights = nn.ParameterList(nn.Parameter(w) for w, _ in trained)
        self.biases = nn.ParameterList(nn.Parameter(b) for _, b in trained)
        self.prior_scale = prior_scale
        for i, (w, b) in enumerate(self._init(members, sizes)):
            self.register_buffer(f"prior_w{i}", w)
            self.register_buffer(f"prior_b{i}", b)

    @staticmethod
    def _init(members: int, sizes: list[tuple[int, int]]) -> list[tuple[Tensor, Tensor]]:
        """Weights (members, in, out) and biases (members, 1, out), as nn.Linear draws them."""
        return [((torch.rand(members, n_in, n_out) * 2 - 1) / math.sqrt(n_in),
                 (torch.rand(members, 1, n_out) * 2 - 1) / math.sqrt(n_in))
                for n_in, n_out in sizes]

    @staticmethod
    def _mlp(z: Tensor, layers: list[tuple[Tensor, Tensor]]) -> Tensor:
        h = z.expand(layers[0][0].shape[0], *z.shape)
        for i, (w, b) in enumerate(layers):
            h = torch.baddbmm(b, h, w)
            if i < len(layers) - 1:
                h = torch.tanh(h)
        return h

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        out = self._mlp(z, list(zip(self.weights, self.biases)))
        mean = out[..., 0]
        if self.prior_scale > 0:
            prior = [(getattr(self, f"prior_w{i}"), getattr(self, f"prior_b{i}"))
                     for i in range(len(self.weights))]
            mean = mean + self.prior_scale * self._mlp(z, prior)[..., 0]
        return mean, nn.functional.softplus(out[..., 1]) + 1e-3


@dataclass
class ProbabilisticClosure:
    """An ensemble closure: inputs normalised by ``shift``/``spread`` (inputs,), outputs in
    units of ``scale``; with a ``base`` (multi-fidelity) it adds the base's mixture mean and
    takes it as a last input."""

    net: EnsembleNet
    shift: Tensor
    spread: Tensor
    scale: float
    base: ProbabilisticClosure | None = None

    def inputs(self, features: Tensor) -> tuple[Tensor, Tensor]:
        """Normalised network inputs (n, d) and the base mean to add (n,), state units/MTU."""
        features, offset = with_base(features.to(self.shift.device), self.base)
        return ((features - self.shift) / self.spread).float(), offset

    @torch.no_grad()
    def predict(self, features: Tensor) -> tuple[Tensor, Tensor]:
        """Each member's mean and std (members, n) of U at ``features`` (n, memory + 1),
        state units / MTU."""
        z, offset = self.inputs(features)
        mean, std = self.net(z)
        return offset + mean.double() * self.scale, std.double() * self.scale


def with_base(features: Tensor, base: ProbabilisticClosure | None) -> tuple[Tensor, Tensor]:
    """``features`` (n, d) with the base's mixture mean appended (n, d + 1), and that mean
    (n,); without a base, ``features`` and zeros."""
    if base is None:
        return features, torch.zeros(len(features), dtype=features.dtype,
                                      device=features.device)
    offset = mixture(*base.predict(features))[0]
    return torch.cat((features, offset.unsqueeze(-1)), -1), offset


def mixture(mean: Tensor, std: Tensor) -> tuple[Tensor, Tensor]:
    """The members' mixture (members, n) as one mean and std (n,)."""
    centre = mean.mean(0)
    return centre, ((std**2 + mean**2).mean(0) - centre**2).clamp_min(0).sqrt()


def fit_ensemble(features: Tensor, target: Tensor, *, members: int, width: int,
                 prior_scale: float, iterations: int, seed: int, device: torch.device,
                 base: ProbabilisticClosure | None = None) -> ProbabilisticClosure:
    """Full-batch Adam (cosine-annealed from 1e-2) on the Gaussian negative log-likelihood
    of ``target`` (n,) given ``features`` (n, d), each member's pairs weighted by its own
    Poisson(1) bootstrap counts, every member at once."""
    torch.manual_seed(seed)
    inputs, offset = with_base(features.to(device), base)
    residual = target.to(device) - offset
    scale = float(residual.std())
    closure = ProbabilisticClosure(
        EnsembleNet(members, inputs.shape[-1], width, prior_scale).to(device),
        inputs.mean(0), inputs.std(0).clamp_min(1e-12), scale, base)
    z = ((inputs - closure.shift) / closure.spread).float().to(device)
    y = (residual / scale).float().to(device)
    counts = torch.poisson(torch.ones(members, len(y))).to(device)  # Poisson bootstrap
    optimiser = torch.optim.Adam(closure.net.parameters(), lr=1e-2)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, iterations)
    for _ in range(iterations):
        mean, std = closure.net(z)
        nll = torch.log(std) + 0.5 * ((y - mean) / std) ** 2
        loss = (counts * nll).sum() / counts.sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    closure.net.eval()
    return closure


@dataclass
class Score:
    """A closure on held-out pairs: RMSE of the mixture mean (state units/MTU), the share of
    targets inside the 90 % interval, the mean interval width (state units/MTU)."""

    rmse: float
    coverage: float
    width: float


def score(closure: ProbabilisticClosure, features: Tensor, target: Tensor) -> Score:
    """:class:`Score` of ``closure`` on ``features`` (n, d) and ``target`` (n,)."""
    mean, std = mixture(*closure.predict(features))
    target = target.to(mean.device)
    inside = ((target - mean).abs() <= Z_LEVEL * std).double().mean()
    return Score(rmse=float((mean - target).pow(2).mean().sqrt()), coverage=float(inside),
                 width=float(2 * Z_LEVEL * std.mean()))


def low_fidelity_model(system: Lorenz96TwoScale, lf_J: int, F: float) -> Lorenz96TwoScale:
    """The cheaper model: ``lf_J`` fast variables per slow one, coupling h sqrt(J / lf_J)
    (the same linear response of U to X when Y follows X quasi-statically), forcing F."""
    return Lorenz96TwoScale(K=system.K, J=lf_J, F=F, h=system.h * math.sqrt(system.J / lf_J),
                            b=system.b, c=system.c)


@dataclass
class UncertaintyOutcome:
    """The closures, their scores at F and F_test ({name: {"train"|"test": Score}}), the
    held-out (features, targets) at F and at F_test, and the wall time (s)."""

    closures: dict[str, ProbabilisticClosure]
    scores: dict[str, dict[str, Score]]
    held_out: tuple[Tensor, Tensor]
    extrapolation: tuple[Tensor, Tensor]
    wall_s: float


def run_uncertainty(system: Lorenz96TwoScale, *, F_test: float, lf_J: int, method: Method,
                    members: int, memory: int, hf_pairs: int, width: int, prior_scale: float,
                    iterations: int, dt: float, sample_every: int, train_duration: float,
                    test_duration: float, trajectories: int, max_samples: int, seed: int,
                    device: torch.device, allow_large: bool = False) -> UncertaintyOutcome:
    """Simulate, train the four ensembles (the closure on all high-fidelity pairs; low-,
    high- (``hf_pairs``) and multi-fidelity) and score them at F and F_test."""
    began = time.perf_counter()
    common = {"dt": dt, "spinup": system.default_spinup, "every": sample_every,
              "members": trajectories, "allow_large": allow_large, "device": device}

    def pairs(model: Lorenz96TwoScale, duration: float, run_seed: int) -> tuple[Tensor, Tensor]:
        x, u = subgrid_tendency(model, simulate_states(model, duration=duration,
                                                       seed=run_seed, **common))
        return memory_features(x, u, memory)

    gen = torch.Generator().manual_seed(seed)

    def subset(features: Tensor, target: Tensor, n: int) -> tuple[Tensor, Tensor]:
        keep = torch.randperm(len(target), generator=gen)[:n]
        return features[keep], target[keep]

    hf_train = pairs(system, train_duration, seed)
    held_out = pairs(system, test_duration, seed + 1)
    extrapolation = pairs(Lorenz96TwoScale(K=system.K, J=system.J, F=F_test, h=system.h,
                                           b=system.b, c=system.c), test_duration, seed + 2)
    lf = [pairs(low_fidelity_model(system, lf_J, f), train_duration, seed + 3 + i)
          for i, f in enumerate((system.F, F_test))]
    lf_pairs = subset(torch.cat([p[0] for p in lf]), torch.cat([p[1] for p in lf]), max_samples)
    few = subset(*hf_train, hf_pairs)
    fit = {"members": members, "width": width, "iterations": iterations, "device": device,
           "prior_scale": prior_scale if method == "randomized_prior" else 0.0}
    closures = {"closure": fit_ensemble(*subset(*hf_train, max_samples), seed=seed, **fit)}
    closures["low_fidelity"] = fit_ensemble(*lf_pairs, seed=seed + 1, **fit)
    closures["high_fidelity"] = fit_ensemble(*few, seed=seed + 2, **fit)
    closures["multi_fidelity"] = fit_ensemble(*few, seed=seed + 3,
                                              base=closures["low_fidelity"], **fit)
    scores = {name: {"train": score(c, *held_out), "test": score(c, *extrapolation)}
              for name, c in closures.items()}
    return UncertaintyOutcome(closures=closures, scores=scores, held_out=held_out,
                              extrapolation=extrapolation, wall_s=time.perf_counter() - began)


class UncertaintyInput(HybridInput):
    """Two-scale Lorenz-96 closures with predictive intervals, memory and multi-fidelity."""

    method: Annotated[Method, aliased(UNCERTAINTY_METHODS)] = Field(
        "ensemble", description="ensemble: deep ensemble (random initialisations); "
        "randomized_prior: each member adds a fixed random prior network to its mean")
    ensemble_members: int = Field(5, ge=2, le=100, description="networks in the ensemble")
    memory: int = Field(2, ge=0, le=20, description="past samples of X_k (every "
                        "sample_every steps) given to the closure besides the present one")
    F_test: float = Field(24.0, description="forcing of the out-of-training test regime (the "
                          "analogue of a warmer climate); F is the training forcing")
    hf_pairs: int = Field(100, ge=10, le=1_000_000, description="high-fidelity (X history, "
                          "U) pairs at F given to the high- and multi-fidelity closures")
    lf_J: int = Field(16, ge=1, le=1024, description="fast variables per slow one in the "
                      "low-fidelity model (coupling h sqrt(J / lf_J)), run at F and F_test")
    width: int = Field(32, ge=2, le=512, description="hidden units per layer")
    prior_scale: float = Field(1.0, ge=0, le=100, description="randomized_prior: weight of "
                               "the random prior network (normalised units)")
    iterations: int = Field(400, ge=1, le=20_000, description="full-batch Adam iterations "
                            "per ensemble (all members at once)")
    max_samples: int = Field(10_000, ge=100, le=2_000_000, description="most training pairs "
                             "(a random subset when there are more)")
    train_duration: float = Field(20.0, gt=0, le=100_000, description="truth MTU per "
                                  "trajectory for training (high and low fidelity each)")
    online_duration: float = Field(10.0, gt=0, le=100_000, description="MTU per trajectory "
                                   "of each held-out truth run (at F and at F_test)")
    members: int = Field(4, ge=1, le=1024, description="independent truth trajectories per "
                         "run")
    device: str = Field("auto", description="'auto' (GPU if present), 'cpu' or 'cuda'")
    handle: str = Field("closure_uncertainty", description="name of the Dataset of held-out "
                        "predictions left in the session")


class UncertaintyResult(ToolResult):
    """Coverage and width of the 90 % intervals; RMSE of each fidelity at F and F_test."""

    table: dict[str, dict[str, float]]


@tool("emulators.closure_uncertainty", family="emulators", long_running=True)
def closure_uncertainty(args: UncertaintyInput, ctx: ToolContext) -> UncertaintyResult:
    """Learn a two-scale Lorenz-96 subgrid closure with uncertainty and memory (the present and
    `memory` past X_k as input): a deep ensemble or randomized prior networks, each member a
    Gaussian (mean, std) trained on the negative log-likelihood of a Poisson bootstrap of the
    pairs. Reports the coverage of its
    90 % predictive intervals on held-out subgrid tendencies and their mean width. Then a
    multi-fidelity closure (abundant low-fidelity data from a cheaper two-scale model with
    lf_J fast variables, at F and F_test, plus hf_pairs high-fidelity pairs at F) against
    low-fidelity-only and high-fidelity-only networks: RMSE of each at the training forcing F
    and at the larger F_test. Leaves the held-out members' means and stds as a Dataset."""
    from climcopilot.tools.emulators.catalog import get_system

    system = get_system("lorenz96_two_scale", **args.system_params())
    if args.F_test == system.F:
        raise ToolError(f"F_test equals the training forcing F = {system.F:g}: give a "
                        "different F_test (e.g. F + 4) for the out-of-training regime")
    device = resolve_device(args.device)
    samples = args.members * sample_count(args.train_duration, args.dt, args.sample_every,
                                          allow_large=args.allow_large) * system.K
    check_training(epochs=args.iterations * args.ensemble_members,  # members train at once
                   pairs=2 * min(samples, args.max_samples) + 2 * args.hf_pairs,
                   rollout_steps=1, allow_large=args.allow_large)
    with cpu_threads(1):
        outcome = run_uncertainty(
            system, F_test=args.F_test, lf_J=args.lf_J, method=args.method,
            members=args.ensemble_members, memory=args.memory, hf_pairs=args.hf_pairs,
            width=args.width, prior_scale=args.prior_scale, iterations=args.iterations,
            dt=args.dt, sample_every=args.sample_every, train_duration=args.train_duration,
            test_duration=args.online_duration, trajectories=args.members,
            max_samples=args.max_samples, seed=args.seed, device=device,
            allow_large=args.allow_large)
    main = outcome.scores["closure"]["train"]
    values = {"coverage_90": main.coverage, "interval_width": main.width,
              "rmse_closure_F": main.rmse, "rmse_closure_F_test":
              outcome.scores["closure"]["test"].rmse, "wall_s": outcome.wall_s}
    units = {"coverage_90": "1", "interval_width": "state units / MTU",
             "rmse_closure_F": "state units / MTU", "rmse_closure_F_test": "state units / MTU",
             "wall_s": "s"}
    table = {}
    for name in FIDELITIES:
        at_f, at_test = outcome.scores[name]["train"], outcome.scores[name]["test"]
        table[name] = {"rmse_F": at_f.rmse, "rmse_F_test": at_test.rmse,
                       "coverage_F": at_f.coverage, "coverage_F_test": at_test.coverage}
        for key, value in table[name].items():
            values[f"{key}_{name}"] = value
            units[f"{key}_{name}"] = "1" if key.startswith("coverage") else "state units / MTU"
    ctx.store[args.handle] = predictions_dataset(outcome, system.describe(), args.F_test)
    figure = plot_uncertainty(ctx, outcome, system.describe(), args.F_test)
    mf = table["multi_fidelity"]["rmse_F_test"]
    best_single = min(table["low_fidelity"]["rmse_F_test"],
                      table["high_fidelity"]["rmse_F_test"])
    return UncertaintyResult(
        summary=f"{system.describe()}, {args.method} of {args.ensemble_members}, memory "
                f"{args.memory}: 90 % intervals cover {main.coverage:.3f} of held-out subgrid "
                f"tendencies (mean width {main.width:.3g}); RMSE at F_test = {args.F_test:g}: "
                + ", ".join(f"{n.replace('_', '-')} {table[n]['rmse_F_test']:.3g}"
                            for n in FIDELITIES),
        values=values, units=units, handles=[args.handle], figures=[figure],
        checks=[Check(name="90 % intervals cover 85-95 % of held-out tendencies",
                      passed=0.85 <= main.coverage <= 0.95,
                      detail=f"coverage {main.coverage:.3f}"),
                Check(name="multi-fidelity error at F_test below both single-fidelity ones",
                      passed=mf < best_single,
                      detail=f"{mf:.3g} vs best single-fidelity {best_single:.3g}")],
        table=table)


def predictions_dataset(outcome: UncertaintyOutcome, described: str,
                        F_test: float) -> xr.Dataset:
    """Held-out inputs, targets and each member's mean and std: the closure at F
    (``*_F``) and the multi-fidelity closure at F_test (``*_F_test``)."""
    data = {}
    for tag, name, (features, target) in (("F", "closure", outcome.held_out),
                                          ("F_test", "multi_fidelity", outcome.extrapolation)):
        mean, std = outcome.closures[name].predict(features)
        dims = (f"sample_{tag}",)
        data[f"X_{tag}"] = ((*dims, "lag"), features.cpu().numpy(),
                            {"units": "1", "long_name": "X_k at lags 0.. samples"})
        data[f"U_{tag}"] = (dims, target.cpu().numpy(),
                            {"units": "1/MTU", "long_name": "true subgrid tendency"})
        data[f"mean_{tag}"] = (("member", *dims), mean.cpu().numpy(),
                               {"units": "1/MTU", "long_name": f"{name} member means"})
        data[f"std_{tag}"] = (("member", *dims), std.cpu().numpy(),
                              {"units": "1/MTU", "long_name": f"{name} member stds"})
    return xr.Dataset(data, attrs={"system_description": described, "F_test": F_test,
                                   "level": LEVEL})


def plot_uncertainty(ctx: ToolContext, outcome: UncertaintyOutcome, described: str,
                     F_test: float) -> str:
    """Left: held-out U against X_k with the closure's mean and 90 % interval; right: RMSE of
    each fidelity at F and F_test."""
    fig = Figure(figsize=(10, 4))
    ax_band, ax_bar = fig.subplots(1, 2)
    features, target = outcome.held_out
    order = torch.argsort(features[:, 0])[:: max(1, len(target) // 2000)]
    mean, std = mixture(*outcome.closures["closure"].predict(features[order]))
    x, mean, std = features[order, 0].cpu().numpy(), mean.cpu().numpy(), std.cpu().numpy()
    ax_band.scatter(x, target[order].cpu().numpy(), s=2, color="grey", label="held-out truth")
    ax_band.plot(x, mean, lw=0.6, color="C0", label="ensemble mean")
    ax_band.fill_between(x, mean - Z_LEVEL * std, mean + Z_LEVEL * std, color="C0", alpha=0.3,
                         label="90 % interval")
    ax_band.set_xlabel("slow variable X_k now (state units)")
    ax_band.set_ylabel("subgrid tendency U_k (state units / MTU)")
    ax_band.legend(fontsize=8)
    ax_band.set_title("held out at F; the band is jagged: it depends on the past X_k too",
                      fontsize=9)
    positions = np.arange(len(FIDELITIES))
    for i, (regime, label) in enumerate((("train", "F (training)"),
                                         ("test", f"F_test = {F_test:g}"))):
        ax_bar.bar(positions + 0.4 * i, [outcome.scores[n][regime].rmse for n in FIDELITIES],
                   width=0.4, label=label)
    ax_bar.set_xticks(positions + 0.2, [n.replace("_", "-") for n in FIDELITIES])
    ax_bar.set_ylabel("RMSE of U (state units / MTU)")
    ax_bar.legend(fontsize=8, loc="lower right")
    ax_bar.set_title("error of the ensemble mean, held out", fontsize=9)
    fig.suptitle(described, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, ctx.figure_path("emulators_closure_uncertainty"))
