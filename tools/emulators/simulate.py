"""Trajectories of the dynamical systems as CF-style xarray Datasets, and their figures."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
import xarray as xr
from matplotlib.figure import Figure

from climcopilot.tools.emulators.limits import check_work, step_count
from climcopilot.tools.emulators.pdes import KolmogorovFlow, KuramotoSivashinsky
from climcopilot.tools.emulators.spectral import SpectralSystem
from climcopilot.tools.emulators.systems import DynamicalSystem, Lorenz96TwoScale, integrate

TIME_UNITS = "MTU"  # model time units
STATE_UNITS = "1"  # the variables are nondimensional


def sample_count(duration: float, dt: float, every: int, *, allow_large: bool = False) -> int:
    """How many states :func:`simulate_states` keeps per member: duration / (dt every) + 1, at
    least 2 (ToolError past the step limit unless ``allow_large``)."""
    return max(1, step_count(duration, dt, allow_large=allow_large) // every) + 1


def simulate_states(system: DynamicalSystem, *, dt: float, duration: float, spinup: float,
                    every: int = 1, members: int = 1, seed: int = 0,
                    device: str | torch.device = "cpu", allow_large: bool = False) -> torch.Tensor:
    """States after ``spinup`` MTU, every ``every`` steps for ``duration`` MTU.

    Returns (members, time, dim) float64 on the CPU; ToolError on blow-up (reduce ``dt``) and
    past the :mod:`.limits` unless ``allow_large``.
    """
    n_spinup = step_count(spinup, dt, what="spinup", allow_large=allow_large)
    n_steps = (sample_count(duration, dt, every, allow_large=allow_large) - 1) * every
    check_work(members=members, steps=n_spinup + n_steps, values=system.dim,
               stored=members * (n_steps // every + 1) * system.dim, allow_large=allow_large,
               hint="lower duration, spinup or members, or raise dt")
    x = system.initial_state((members,), seed=seed, device=device)
    if n_spinup:
        x = integrate(system, x, dt, n_spinup, every=n_spinup)[-1]
    return integrate(system, x, dt, n_steps, every=every).transpose(0, 1).cpu()


def states_to_dataset(system: DynamicalSystem, states: torch.Tensor, *, dt: float, every: int,
                      spinup: float) -> xr.Dataset:
    """A Dataset of ``states`` (members, time, dim) with CF-style attributes.

    lorenz96 -> ``x(member, time, site)``; lorenz63 -> ``x, y, z(member, time)``;
    lorenz96_two_scale -> ``X(member, time, site)`` and ``Y(member, time, fast_site)``;
    kuramoto_sivashinsky -> ``u(member, time, x)``; kolmogorov -> ``vorticity(member, time, y,
    x)``. Positions x, y are nondimensional lengths.
    """
    values = states.numpy()
    time = np.arange(values.shape[1]) * dt * every
    coords = {"member": np.arange(values.shape[0]),
              "time": ("time", time, {"units": TIME_UNITS, "standard_name": "time",
                                      "long_name": "model time after spin-up"})}
    def var(data: np.ndarray, dims: tuple[str, ...], long_name: str) -> xr.DataArray:
        return xr.DataArray(data, dims=dims, attrs={"units": STATE_UNITS, "long_name": long_name})

    if isinstance(system, Lorenz96TwoScale):
        K = system.K
        data = {"X": var(values[..., :K], ("member", "time", "site"), "slow variable X_k"),
                "Y": var(values[..., K:], ("member", "time", "fast_site"),
                         "fast variable Y_{j,k} at index k*J + j")}
    elif isinstance(system, KuramotoSivashinsky):
        coords["x"] = ("x", system.coordinates().numpy(),
                       {"units": "1", "long_name": "position on the periodic domain [0, L)"})
        data = {"u": var(values, ("member", "time", "x"), "Kuramoto-Sivashinsky field u")}
    elif isinstance(system, KolmogorovFlow):
        grid = system.coordinates().numpy()
        for axis in "yx":
            coords[axis] = (axis, grid, {"units": "1", "long_name": f"{axis} position on the "
                                         "periodic domain [0, 2 pi)"})
        data = {"vorticity": var(values.reshape(*values.shape[:2], system.N, system.N),
                                 ("member", "time", "y", "x"), "relative vorticity")}
        data["vorticity"].attrs["standard_name"] = "atmosphere_relative_vorticity"
    elif system.name == "lorenz63":
        data = {name: var(values[..., i], ("member", "time"), f"Lorenz-63 variable {name}")
                for i, name in enumerate("xyz")}
    else:
        data = {"x": var(values, ("member", "time", "site"), f"{system.name} variable x_i")}
    scheme = ("pseudo-spectral ETDRK4" if isinstance(system, SpectralSystem) else "RK4")
    return xr.Dataset(data, coords=coords, attrs={
        "Conventions": "CF-1.8",
        "title": f"{system.describe()} trajectory",
        "source": f"climcopilot emulators.simulate: {scheme}, dt = {dt:g} MTU",
        "history": f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ} simulated after "
                   f"{spinup:g} MTU of spin-up, kept every {every} steps",
        "system": system.name, "system_description": system.describe(),
        "system_params": json.dumps(dataclasses.asdict(system)), "dt": dt,
        "sampling_interval": dt * every})


def dataset_to_states(ds: xr.Dataset) -> torch.Tensor:
    """The inverse of :func:`states_to_dataset`: (members, time, dim) float64."""
    if ds.attrs.get("system") == "lorenz63":
        arrays = [ds[name].values[..., None] for name in "xyz"]
    elif ds.attrs.get("system") == "lorenz96_two_scale":
        arrays = [ds["X"].values, ds["Y"].values]
    elif ds.attrs.get("system") == "kuramoto_sivashinsky":
        arrays = [ds["u"].values]
    elif ds.attrs.get("system") == "kolmogorov":
        field = ds["vorticity"].values
        arrays = [field.reshape(*field.shape[:2], -1)]
    else:
        arrays = [ds["x"].values]
    return torch.from_numpy(np.concatenate(arrays, axis=-1)).to(torch.float64)


def plot_trajectory(ds: xr.Dataset, path: Path) -> None:
    """Member 0: Hovmoller diagram (ring systems, Kuramoto-Sivashinsky), x-z phase portrait
    (lorenz63) or the last vorticity field (kolmogorov)."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    first = ds.isel(member=0)
    if ds.attrs["system"] == "lorenz63":
        ax.plot(first["x"], first["z"], lw=0.4)
        ax.set_xlabel("x (nondimensional)")
        ax.set_ylabel("z (nondimensional)")
    elif "vorticity" in ds:
        last = first["vorticity"].isel(time=-1)
        mesh = ax.pcolormesh(last["x"], last["y"], last.values, shading="nearest",
                             cmap="RdBu_r")
        fig.colorbar(mesh, ax=ax, label="vorticity (nondimensional)")
        ax.set_aspect("equal")
        ax.set_xlabel("x (nondimensional)")
        ax.set_ylabel("y (nondimensional)")
        ax.set_title(f"{ds.attrs['system_description']}\nvorticity at t = "
                     f"{float(last['time']):g} {TIME_UNITS}", fontsize=9)
    elif "u" in ds:
        mesh = ax.pcolormesh(first["x"], first["time"], first["u"].values, shading="nearest",
                             cmap="RdBu_r")
        fig.colorbar(mesh, ax=ax, label="u (nondimensional)")
        ax.set_xlabel("x (nondimensional)")
        ax.set_ylabel(f"time ({TIME_UNITS})")
    else:
        field = first["X"] if "X" in ds else first["x"]
        mesh = ax.pcolormesh(field["site"], field["time"], field.values, shading="nearest",
                             cmap="RdBu_r")
        fig.colorbar(mesh, ax=ax, label=f"{field.name} (nondimensional)")
        ax.set_xlabel("site index (ring)")
        ax.set_ylabel(f"time ({TIME_UNITS})")
    if not ax.get_title():
        ax.set_title(ds.attrs["title"])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
