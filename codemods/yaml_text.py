"""YAML read for its node positions, and the soundness check of an edited file.

The YAML kinds never re-dump a document (that would rewrite quoting, comments
and indentation); they read it with ruamel.yaml's round-trip loader for the
line and column of each node and edit whole lines in fences.
"""

from __future__ import annotations

from typing import Any

from instrument.codemods import markers
from instrument.codemods.errors import InstrumentError


def load(text: str) -> Any:
    """The round-trip document (None for an empty file); one-line error otherwise."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="rt").load(text)
    except YAMLError as exc:
        first = " ".join(str(exc).split())
        raise InstrumentError(f"cannot parse YAML: {first}") from None
    except RecursionError:
        raise InstrumentError("cannot parse YAML: nested too deeply") from None


def verify(result: str, original: str) -> Any:
    """Refuse YAML that does not load or does not strip back to the original; the loaded result."""
    if not markers.strips_back_to(result, original, yaml=True):
        raise InstrumentError("internal error: the result does not strip back to the original")
    try:
        return load(result)
    except InstrumentError as exc:
        raise InstrumentError(f"internal error: the result is not valid YAML: {exc}") from None
