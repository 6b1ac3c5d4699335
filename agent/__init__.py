"""The agent: LangGraph graph, brains, CLI."""
