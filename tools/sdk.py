"""Everything a plugin needs, importable from one place (``from climcopilot.tools.sdk import
tool, ToolResult, ...``). The names are re-exported explicitly, so go-to-definition lands on
the real definitions; a plugin that imports only from here keeps working when the modules
behind it move.
"""

from __future__ import annotations

from climcopilot.tools.base import Check as Check
from climcopilot.tools.base import KnowledgeCard as KnowledgeCard
from climcopilot.tools.base import ToolContext as ToolContext
from climcopilot.tools.base import ToolError as ToolError
from climcopilot.tools.base import ToolResult as ToolResult
from climcopilot.tools.base import ValidRange as ValidRange
from climcopilot.tools.base import tool as tool
from climcopilot.tools.emulators.catalog import get_system as get_system
from climcopilot.tools.emulators.models import Model as Model
from climcopilot.tools.emulators.models import TorchModel as TorchModel
from climcopilot.tools.emulators.models import resolve_model as resolve_model
from climcopilot.tools.emulators.systems import DynamicalSystem as DynamicalSystem
from climcopilot.tools.emulators.systems import cpu_threads as cpu_threads
from climcopilot.tools.emulators.systems import integrate as integrate
from climcopilot.tools.registry import get_tool as get_tool

__all__ = ["Check", "DynamicalSystem", "KnowledgeCard", "Model", "ToolContext", "ToolError",
           "ToolResult", "TorchModel", "ValidRange", "cpu_threads", "get_system", "get_tool",
           "integrate", "resolve_model", "tool"]
