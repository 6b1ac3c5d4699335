"""The ``l96_cnn`` model: the trained RingCNN wrapped as a ClimCopilot model (entry point
``climcopilot.models``)."""

from __future__ import annotations

from pathlib import Path

import torch

from climcopilot.tools.sdk import KnowledgeCard, TorchModel, ValidRange
from l96_emulator.network import RingCNN

WEIGHTS = Path(__file__).with_name("weights.pt")
N_SITES = 40
DT = 0.05  # MTU, the step the DA tools use for lorenz96

CARD = KnowledgeCard(
    what="A 1.3k-parameter convolutional emulator of the Lorenz-96 ring (N = 40 sites, F = 8): "
         "a 5-site periodic stencil network that predicts dx/dt, integrated with RK4. Its "
         "tendency error is about 1% RMS on the attractor.",
    when_to_use="As an imperfect forecast model in data-assimilation twin experiments on "
                "lorenz96 (forecast_model='l96_cnn'), or to test how a filter copes with model "
                "error. Not for other forcings F or ring sizes: it was trained on F = 8, "
                "N = 40 only.",
    references=["Lorenz (1996), Predictability: a problem partly solved, ECMWF Seminar",
                "Brajard et al. (2020), doi:10.1016/j.jocs.2020.101171"],
    valid_ranges={"dt": ValidRange(low=0.005, high=0.05, units="MTU"),
                  "state": ValidRange(low=-12.0, high=16.0, units="state units")},
)


def load_network() -> RingCNN:
    """The network with its shipped weights (trained by ``train.py``), float32, on the CPU."""
    network = RingCNN()
    network.load_state_dict(torch.load(WEIGHTS, map_location="cpu", weights_only=True))
    return network


def l96_cnn() -> TorchModel:
    """The emulator as a model of the 40-variable Lorenz-96 state (tendency integrated by RK4)."""
    base = torch.full((N_SITES,), 8.0, dtype=torch.float64)
    base[0] += 0.01
    return TorchModel(load_network(), dim=N_SITES, dt=DT, name="l96_cnn", tendency=True,
                      base_state=base, positions=torch.arange(N_SITES, dtype=torch.float64),
                      ring_length=float(N_SITES))


l96_cnn.card = CARD
