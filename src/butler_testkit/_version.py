"""The version of butler-testkit."""

__version__ = "0.1.0.dev0"
