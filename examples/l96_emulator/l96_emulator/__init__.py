"""A ClimCopilot plugin: a small torch emulator of Lorenz-96, as a model and a tool."""
