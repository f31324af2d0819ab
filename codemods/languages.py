"""The languages a kind's files are in, and how each is parsed once per file.

Below the kinds and their registry: both name the languages, and the runner
asks for a language's parser without importing any kind (``instrument
--help`` loads click and little else, so parsers are imported when called).
"""

from __future__ import annotations

from typing import Any, Callable

PYTHON = "python"
YAML = "yaml"
#: Line-based files with ``#`` comments (pip requirements, Dockerfiles): every
#: whole-line ``#`` is a comment, and their kinds are found by file name.
TEXT = "text"


def parse_python(text: str) -> Any:
    """LibCST's tree of a Python source (one-line error)."""
    from instrument.codemods.python.parsing import parse_module

    return parse_module(text)


def parse_yaml(text: str) -> Any:
    """The round-trip YAML document (one-line error)."""
    from instrument.codemods.yamltext.yaml_text import load

    return load(text)


def parse_text(text: str) -> Any:
    """A line-based file is its own tree."""
    return text


def parser(language: str) -> Callable[[str], Any]:
    """The parse function of a language (one parse per file, shared by detection and plan)."""
    return {PYTHON: parse_python, YAML: parse_yaml, TEXT: parse_text}[language]
