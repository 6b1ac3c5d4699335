"""ClimCopilot as a Model Context Protocol server (``climcopilot mcp``, docs/mcp.md): the typed
tools, ``run_python`` in a sandboxed kernel per MCP session, resources (figures, tables, the
session notebook, the catalog, knowledge cards), prompts from the offline brain's recipes, and
``recall``/``remember`` over the verified memory.

``server`` wires the handlers; ``sessions`` holds each MCP session's kernel and steps;
``calls`` turns tools and kernel observations into MCP tools and results; ``running`` runs a
blocking call with progress and cancellation; ``resources``, ``prompts`` and ``memory_tools``
serve what their names say; ``http`` is the streamable HTTP transport with its bearer token.
"""
