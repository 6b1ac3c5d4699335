"""What each ``climcopilot`` command does: one module per command group, each with
``run(args) -> exit code`` (the parser is :mod:`climcopilot.agent.cli`)."""
