"""The one line every dev-set reference prints per expected value, which
tests/test_dev_references.py parses: ``<task id>.<value name> = <value>    # how``.

Kept apart from the data readers so that references run in any interpreter (the DAPPER ones
run in a venv without pandas).
"""


def report(task: str, name: str, value: float, note: str = "") -> None:
    """Print one expected value of task ``task``, followed by how it was obtained."""
    print(f"{task}.{name} = {value:.6g}" + (f"    # {note}" if note else ""))
