"""instrument: add remote-debugging scaffolding to Azure ML code, and take it out again."""

from instrument.codemods import __version__

__all__ = ["__version__"]
