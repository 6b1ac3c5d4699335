"""The memory's one error type, in a module of its own so that importing it loads nothing else."""


class MemoryStoreError(RuntimeError):
    """The store cannot be opened or written; the message says what to do."""
