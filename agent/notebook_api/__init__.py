"""ClimCopilot, an agent copilot for climate science.

This folder is the top of the ``climcopilot`` package (``pyproject.toml`` maps it there); the
code lives in ``climcopilot.agent``, ``climcopilot.tools``, ... In a notebook::

    from climcopilot import Copilot      # see climcopilot.agent.notebook
    %load_ext climcopilot                # the %%copilot cell magic

Nothing heavy is imported until ``Copilot`` is used, so ``import climcopilot.tools`` stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Copilot", "load_ipython_extension"]


def __getattr__(name: str) -> Any:
    if name == "Copilot":
        from climcopilot.agent.notebook import Copilot

        return Copilot
    raise AttributeError(f"module 'climcopilot' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext climcopilot``: registers the ``%%copilot`` cell magic."""
    from climcopilot.agent.notebook import load_ipython_extension as load

    load(ipython)
