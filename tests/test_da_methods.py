"""Unit checks of the DA building blocks against closed-form results."""

import numpy as np
import pytest
import torch

from climcopilot.tools.base import ToolError
from climcopilot.tools.da.ensemble import (
    ETKF,
    LETKF,
    DEnKF,
    StochasticEnKF,
    inflate,
    mean_preserving_rotations,
)
from climcopilot.tools.da.forecast import CycleForecast
from climcopilot.tools.da.fused import fused_step
from climcopilot.tools.da.inputs import TwinInput
from climcopilot.tools.da.localization import GC_SCALE, gaspari_cohn, ring_distance
from climcopilot.tools.da.noise import NormalStream
from climcopilot.tools.da.operators import build_obs, callable_obs, identity_obs
from climcopilot.tools.da.particle import BootstrapPF, default_settings, systematic_resample
from climcopilot.tools.da.twin import build_setup, simulate_truth
from climcopilot.tools.da.variational import Var4D, kalman_gain, symmetric_sqrt
from climcopilot.tools.emulators.catalog import get_system

f64 = torch.float64


def test_gaspari_cohn_identities():
    loc_rad = 4.0
    support = 2 * GC_SCALE * loc_rad
    d = torch.linspace(0, 1.5 * support, 2001, dtype=f64)
    taper = gaspari_cohn(d, loc_rad)
    assert taper[0] == 1.0
    assert torch.all(taper[d >= support] == 0) and torch.all(taper[d < support - 1e-9] > 0)
    assert torch.all(taper.diff() <= 1e-15)  # non-increasing
    at_half_width = gaspari_cohn(torch.tensor([GC_SCALE * loc_rad], dtype=f64), loc_rad)
    assert at_half_width.item() == pytest.approx(5 / 24)  # both branches give 5/24 at r = 1
    near = gaspari_cohn(torch.tensor([GC_SCALE * loc_rad * (1 + 1e-9)], dtype=f64), loc_rad)
    assert near.item() == pytest.approx(5 / 24, abs=1e-7)  # continuous across r = 1


def test_ring_distance_is_periodic():
    positions = torch.arange(40, dtype=f64)
    d = ring_distance(positions, positions, 40.0)
    assert d[0, 39] == 1 and d[0, 20] == 20 and d[3, 37] == 6
    torch.testing.assert_close(d, d.T)


def test_inflation_multiplies_anomalies_not_variance():
    gen = torch.Generator().manual_seed(0)
    E = torch.randn(10, 5, dtype=f64, generator=gen) + 3.0
    out = inflate(E, 1.1)
    torch.testing.assert_close(out.mean(0), E.mean(0))
    torch.testing.assert_close(out - out.mean(0), 1.1 * (E - E.mean(0)))
    torch.testing.assert_close(out.var(0), 1.21 * E.var(0))


def test_random_rotation_preserves_mean_and_covariance():
    gen = torch.Generator().manual_seed(1)
    Q = mean_preserving_rotations(torch.randn(7, 7, dtype=f64, generator=gen))
    torch.testing.assert_close(Q @ Q.T, torch.eye(8, dtype=f64))
    torch.testing.assert_close(Q @ torch.ones(8, dtype=f64), torch.ones(8, dtype=f64))
    assert not torch.allclose(Q, torch.eye(8, dtype=f64))
    E = torch.randn(8, 3, dtype=f64, generator=gen)
    out = E.mean(0) + Q @ (E - E.mean(0))
    torch.testing.assert_close(out.mean(0), E.mean(0))
    torch.testing.assert_close(torch.cov(out.T), torch.cov(E.T))
    batch = mean_preserving_rotations(torch.randn(5, 7, 7, dtype=f64, generator=gen))
    torch.testing.assert_close(batch @ batch.mT, torch.eye(8, dtype=f64).expand(5, 8, 8))


def test_rotation_in_the_etkf_transform_keeps_mean_and_covariance(linear_case):
    setup, E, y, mean_a, P_a = linear_case
    rotation = mean_preserving_rotations(torch.randn(29, 29, dtype=f64))
    out = ETKF(N=30, rot=True).analysis(E, y, setup, rotation)
    torch.testing.assert_close(out.mean(0), mean_a)
    torch.testing.assert_close(torch.cov(out.T), P_a)
    assert not torch.allclose(out, ETKF(N=30).analysis(E, y, setup))


@pytest.fixture(scope="module")
def linear_case():
    """A small L96 set-up, a prior ensemble and one observation, all sites observed."""
    setup = build_setup(TwinInput(Ko=1, device="cpu", obs_var=0.5))
    gen = torch.Generator().manual_seed(3)
    E = setup.x0_mean + torch.randn(30, 40, dtype=f64, generator=gen)
    y = setup.x0_mean + torch.randn(40, dtype=f64, generator=gen)
    P = torch.cov(E.T)
    K = kalman_gain(P, torch.eye(40, dtype=f64), 0.5)
    mean_a = E.mean(0) + K @ (y - E.mean(0))
    P_a = (torch.eye(40, dtype=f64) - K) @ P
    return setup, E, y, mean_a, P_a


def test_etkf_matches_the_kalman_filter(linear_case):
    setup, E, y, mean_a, P_a = linear_case
    out = ETKF(N=30).analysis(E, y, setup)
    torch.testing.assert_close(out.mean(0), mean_a)
    torch.testing.assert_close(torch.cov(out.T), P_a)


def test_denkf_mean_is_the_kalman_mean(linear_case):
    setup, E, y, mean_a, _ = linear_case
    out = DEnKF(N=30).analysis(E, y, setup)
    torch.testing.assert_close(out.mean(0), mean_a)


def test_stochastic_enkf_mean_is_kalman_mean_on_average(linear_case):
    setup, E, y, mean_a, _ = linear_case
    enkf = StochasticEnKF(N=30)
    draws = enkf.draws(setup, torch.Generator().manual_seed(5))
    means = torch.stack([enkf.analysis(E, y, setup, draws.next()).mean(0) for _ in range(10)])
    # centred perturbations: the mean update is exactly the Kalman one
    torch.testing.assert_close(means, mean_a.expand_as(means))
    assert not torch.allclose(enkf.analysis(E, y, setup, draws.next()),
                              enkf.analysis(E, y, setup, draws.next()))


def test_letkf_with_a_huge_radius_is_the_etkf(linear_case):
    setup, E, y, _, _ = linear_case
    letkf = LETKF(N=30, loc_rad=1e6)
    torch.testing.assert_close(letkf.analysis(E, y, setup), ETKF(N=30).analysis(E, y, setup))


def test_letkf_ignores_observations_beyond_the_taper(linear_case):
    setup, E, y, _, _ = linear_case
    letkf = LETKF(N=30, loc_rad=2.0)  # support 2 * 1.82 * 2 = 7.28 sites
    far = y.clone()
    far[20] += 100.0  # 20 sites away from site 0
    delta = letkf.analysis(E, far, setup) - letkf.analysis(E, y, setup)
    assert delta[:, 0].abs().max() == 0 and delta[:, 20].abs().max() > 1


def test_4dvar_gradient_matches_finite_differences():
    args = TwinInput(Ko=3, method="4dvar", device="cpu")
    setup = build_setup(args)
    _, yy = simulate_truth(setup, torch.Generator().manual_seed(0))
    var4d = Var4D(xB=0.05, lag=3)
    B_sqrt = symmetric_sqrt(0.05 * setup.clim.cov)
    x_b = setup.x0_mean + 0.1
    w = 0.3 * torch.randn(40, dtype=f64, generator=torch.Generator().manual_seed(1))
    w.requires_grad_(True)
    var4d.cost(w, x_b, B_sqrt, yy, setup).backward()
    eps = 1e-6
    basis = torch.eye(40, dtype=f64)
    with torch.no_grad():
        fd = torch.stack([(var4d.cost(w + eps * e, x_b, B_sqrt, yy, setup)
                           - var4d.cost(w - eps * e, x_b, B_sqrt, yy, setup)) / (2 * eps)
                          for e in basis])
    torch.testing.assert_close(w.grad, fd, rtol=1e-6, atol=1e-6)


def test_kalman_gain_scalar_case():
    K = kalman_gain(torch.tensor([[4.0]], dtype=f64), torch.tensor([[1.0]], dtype=f64), 1.0)
    assert K.item() == pytest.approx(0.8)


def test_systematic_resampling_keeps_heavy_particles():
    w = torch.tensor([0.0, 0.5, 0.25, 0.25], dtype=f64)
    idx = systematic_resample(w, torch.Generator().manual_seed(0))
    assert sorted(idx.tolist()).count(1) == 2 and 0 not in idx.tolist()


def test_observation_operators():
    x = torch.arange(12, dtype=f64).reshape(2, 6)
    assert torch.equal(identity_obs(6, 1.0)(x), x)
    every_other = build_obs(6, "every_other", 1.0)
    assert every_other.n_obs == 3 and torch.equal(every_other(x), x[:, ::2])
    assert torch.equal(every_other.jacobian(x[0]) @ x[0], x[0, ::2])
    squares = callable_obs(lambda s: s[..., :2] ** 2, 6, 1.0)
    assert squares.n_obs == 2
    torch.testing.assert_close(squares.jacobian(x[1]),
                               torch.tensor([[12.0, 0, 0, 0, 0, 0], [0, 14.0, 0, 0, 0, 0]],
                                            dtype=f64))


@pytest.mark.parametrize("make, match", [
    (lambda: build_obs(6, [0, 6], 1.0), "distinct indices in 0..5"),
    (lambda: build_obs(6, [1, 1], 1.0), "distinct indices"),
    (lambda: build_obs(6, "odd", 1.0), "not understood"),
    (lambda: build_obs(6, None, -1.0), "positive variance"),
    (lambda: callable_obs(lambda s: s.sum(), 6, 1.0), r"\(\.\.\., n_obs\)"),
])
def test_bad_observation_operators_are_clear_errors(make, match):
    with pytest.raises(ToolError, match=match):
        make()


@pytest.mark.parametrize("system, shape, dt, dko", [
    ("lorenz96", (24, 40), 0.05, 1),
    ("lorenz63", (100, 3), 0.01, 25),
    ("lorenz63", (3,), 0.01, 25),
    ("lorenz96_two_scale", (5, 264), 0.005, 3),
])
def test_traced_cycle_is_bit_identical_to_stepping_eagerly(system, shape, dt, dko,
                                                          monkeypatch):
    model = get_system(system)
    cycle = CycleForecast(model, dt, dko)
    gen = torch.Generator().manual_seed(4)
    x = model.base_state() + torch.randn(shape, dtype=f64, generator=gen)
    with torch.inference_mode():
        assert cycle.traceable
        eager = cycle.eager(x)
        natively = cycle(x)  # one call of the C step where it runs: the same RK4 arithmetic
        torch.testing.assert_close(natively, eager, rtol=1e-12, atol=1e-12)
        monkeypatch.setenv("CLIMCOPILOT_NATIVE", "never")
        assert not cycle.runs_natively(x)
        assert torch.equal(cycle(x), eager) and torch.equal(cycle(x), eager)  # traced, then cached
    reference = x
    for _ in range(dko):  # the model's own step: the fused one differs by rounding only
        reference = model.step(reference, dt)
    torch.testing.assert_close(eager, reference, rtol=1e-12, atol=1e-12)


def test_fused_lorenz63_step_is_rk4_of_the_lorenz63_equations():
    sigma, rho, beta, dt = 10.0, 28.0, 8.0 / 3.0, 0.01
    x = torch.tensor([[1.5, -1.5, 25.0], [-7.0, 3.0, 11.0]], dtype=f64)

    def f(s):  # written out here, independently of the system's code
        u, v, w = s[:, 0], s[:, 1], s[:, 2]
        return torch.stack((sigma * (v - u), u * (rho - w) - v, u * v - beta * w), dim=1)

    k1 = f(x)
    k2 = f(x + dt / 2 * k1)
    k3 = f(x + dt / 2 * k2)
    k4 = f(x + dt * k3)
    expected = x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    fused = fused_step(get_system("lorenz63", sigma=sigma, rho=rho, beta=beta))
    torch.testing.assert_close(fused(x, dt), expected, rtol=1e-14, atol=1e-13)
    torch.testing.assert_close(fused(x[0], dt), expected[0], rtol=1e-14, atol=1e-13)


def test_a_plugin_model_and_gradients_step_eagerly():
    class Damped:  # any object with step(): a plugin's model
        name, dim, default_dt = "damped", 2, 0.1

        def step(self, x, dt):
            return x * (1 - dt)

        def base_state(self):
            return torch.ones(2, dtype=f64)

    assert not CycleForecast(Damped(), 0.1, 3).traceable
    x = torch.ones(3, dtype=f64, requires_grad=True)
    cycle = CycleForecast(get_system("lorenz63"), 0.01, 5)
    cycle(x).sum().backward()  # grad mode: the eager steps, differentiable
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_normal_stream_draws_a_chunk_of_cycles_per_call():
    stream = NormalStream(torch.Generator().manual_seed(6), (7, 3), torch.device("cpu"))
    seed = int(torch.randint(2**62, (1,), generator=torch.Generator().manual_seed(6)))
    gen = torch.Generator().manual_seed(seed)
    expected = torch.cat([torch.randn((stream.chunk, 7, 3), generator=gen, dtype=torch.float32)
                          for _ in range(2)]).double()
    draws = torch.stack([stream.next() for _ in range(2 * stream.chunk)])
    assert draws.dtype == f64 and torch.equal(draws, expected)  # two chunks, in order
    assert abs(float(draws.mean())) < 0.05 and abs(float(draws.std()) - 1) < 0.05
    again = NormalStream(torch.Generator().manual_seed(6), (7, 3), torch.device("cpu"))
    assert torch.equal(again.next(), draws[0])  # reproducible from the seed
    centred = NormalStream(torch.Generator().manual_seed(6), (7, 3), torch.device("cpu"),
                           lambda D: D - D.mean(-2, keepdim=True))
    torch.testing.assert_close(centred.next().mean(0), torch.zeros(3, dtype=f64))


def test_pf_defaults_follow_the_tuned_table_linearly_in_log_n():
    assert default_settings(100) == pytest.approx((1.6, 0.3))
    assert default_settings(800) == pytest.approx((0.9, 0.2))  # DAPPER's tuning from here on
    assert default_settings(4000) == pytest.approx((0.7, 0.05))
    assert default_settings(30) == pytest.approx((1.6, 0.3))  # held beyond the table
    assert default_settings(10_000) == pytest.approx((0.7, 0.05))
    assert default_settings(round((100 * 800) ** 0.5)) == pytest.approx((1.25, 0.25), abs=1e-3)
    assert BootstrapPF(N=100, reg=1.0).reg == 1.0 and BootstrapPF(N=100, reg=1.0).ess_ratio == 0.3


@pytest.mark.parametrize("parents", [(7,), (3, 9), (3, 9, 15)])
def test_pf_jitter_has_the_kernel_covariance(parents):
    # N_eff = 1 or 2 < dim + 1 = 3: the kernel is the unweighted covariance; weight split evenly
    # between three particles (N_eff = 3): the weighted, unbiased covariance.
    gen = torch.Generator().manual_seed(8)
    N, dim = 3000, 2
    X = torch.randn(N, dim, dtype=f64, generator=gen) * torch.tensor([1.0, 3.0], dtype=f64)
    w = torch.zeros(N, dtype=f64)
    w[list(parents)] = 1.0 / len(parents)
    jitter = torch.randn(N, dim, dtype=f64, generator=gen)
    out = BootstrapPF(N=N, reg=1.5).regularised_resample(X, w, float(w @ w), jitter, gen)
    Xn, wn = X.numpy(), w.numpy()
    if len(parents) < dim + 1:
        kernel = np.cov(Xn.T)
    else:
        anomalies = Xn - wn @ Xn
        kernel = (anomalies.T * wn) @ anomalies / (1 - wn @ wn)
    # systematic resampling of equal weights: N / len(parents) copies of each parent, in order
    copies = np.repeat(Xn[list(parents)], N // len(parents), axis=0)
    jittered = out.numpy() - copies
    h = 1.5 * N ** (-1 / (dim + 4))
    scale = h**2 * np.sqrt(np.outer(kernel.diagonal(), kernel.diagonal()))
    # sampling error of a covariance from 3000 draws: about 0.03 of this scale
    np.testing.assert_allclose(np.cov(jittered.T) / scale, h**2 * kernel / scale, atol=0.08)


def test_a_cached_traced_cycle_never_serves_another_set_up():
    # Same forecast model, different systems: 3D-Var's B (the system's climatology) differs, so
    # the traced cycle of one must not be reused for the other.
    from climcopilot.tools.da import forecast
    from climcopilot.tools.da.twin import run_twin

    def run(F):
        return run_twin(TwinInput(method="3dvar", xB=0.02, Ko=40, system_params={"F": F},
                                  forecast_model="lorenz96", forecast_params={"F": 8.5},
                                  device="cpu")).rmse_a

    forecast._TRACED.clear()
    alone = run(9.0)
    forecast._TRACED.clear()
    run(8.0)
    assert run(9.0) == alone
