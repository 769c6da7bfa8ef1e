"""Typed errors: the library raises them, only the CLI turns them into messages and exit codes."""


class DashgenError(Exception):
    """A failure the CLI reports without a traceback (exit 1)."""


class ConfigError(DashgenError):
    """Bad configuration or usage: unknown environment, missing token (exit 2)."""


class DefinitionError(DashgenError):
    """A module under dashboards/ or alerts/ failed to load or build."""

    def __init__(self, module: str, cause: str):
        super().__init__(f"{module}: {cause}")
        self.module = module
        self.cause = cause
