"""YAML read for its node positions, and the soundness check of an edited file.

The YAML kinds never re-dump a document (that would rewrite quoting, comments
and indentation); they read it with ruamel.yaml's round-trip loader for the
line and column of each node and edit whole lines in fences.
"""

from __future__ import annotations

from typing import Any

from instrument.codemods import markers
from instrument.codemods.errors import InstrumentError


#: The last text loaded and its composed node graph: the YAML kinds' plans
#: need both the values and every node's marks of the same text, and a
#: load is a compose followed by a construction.
_last_composed: list = [None, None]


def load(text: str) -> Any:
    """The round-trip document (None for an empty file); one-line error otherwise."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        yaml = YAML(typ="rt")
        node = yaml.compose(text)
        data = yaml.constructor.construct_document(node) if node is not None else None
    except YAMLError as exc:
        first = " ".join(str(exc).split())
        raise InstrumentError(f"cannot parse YAML: {first}") from None
    except RecursionError:
        raise InstrumentError("cannot parse YAML: nested too deeply") from None
    _last_composed[:] = [text, node]
    return data


def composed(text: str) -> Any:
    """The composed node graph of ``text`` (which has loaded before)."""
    if _last_composed[0] is text or _last_composed[0] == text:
        return _last_composed[1]
    load(text)
    return _last_composed[1]


def verify(result: str, original: str) -> Any:
    """Refuse YAML that does not load or does not strip back to the original; the loaded result."""
    if not markers.strips_back_to(result, original, yaml=True):
        raise InstrumentError("internal error: the result does not strip back to the original")
    try:
        return load(result)
    except InstrumentError as exc:
        raise InstrumentError(f"internal error: the result is not valid YAML: {exc}") from None
