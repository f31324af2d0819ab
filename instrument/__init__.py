"""instrument: add remote-debugging scaffolding to Azure ML code, and take it out again."""

__version__ = "0.1.0"
