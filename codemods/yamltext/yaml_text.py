"""YAML read for its node positions, and the soundness check of an edited file.

The YAML kinds never re-dump a document (that would rewrite quoting, comments
and indentation); they read it with ruamel.yaml's round-trip loader for the
line and column of each node and edit whole lines in fences.
"""

from __future__ import annotations

import functools
from typing import Any, Optional

from instrument.codemods.fences import markers
from instrument.codemods.core.errors import InstrumentError


#: The last text loaded, its composed node graph and its values: the YAML kinds
#: need both the values (to decide) and every node's marks (to edit lines) of
#: the same text, and a load is a compose followed by a construction.
_last_loaded: list = [None, None, None]
#: The last few texts loaded: {text: (node, data)}.
_recent: dict = {}
MERGE_TAG = "tag:yaml.org,2002:merge"


@functools.lru_cache(maxsize=None)
def _keep_merge_keys() -> Any:
    """ruamel.yaml's round-trip constructor that leaves the composed nodes as they were composed.

    Constructing a mapping with a merge key (``<<: *defaults``) deletes the
    key from its node; the v2 kinds read the node graph after the values
    were built, and must still see who merges what. Each such node's entries
    are put back once the whole document is constructed.
    """
    from ruamel.yaml.constructor import RoundTripConstructor

    class KeepMergeKeys(RoundTripConstructor):
        def flatten_mapping(self, node: Any) -> Any:
            if any(key.tag == MERGE_TAG for key, _ in node.value):
                self.__dict__.setdefault("merged_nodes", []).append((node, list(node.value)))
            return super().flatten_mapping(node)

        def construct_document(self, node: Any) -> Any:
            try:
                return super().construct_document(node)
            finally:
                for merged, entries in self.__dict__.pop("merged_nodes", ()):
                    merged.value[:] = entries

    return KeepMergeKeys


def load(text: str) -> Any:
    """The round-trip document (None for an empty file); one-line error otherwise.

    The composed node graph and the values are kept for :func:`composed` and :func:`loaded`,
    and given again for the same text.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    known = _recent.get(text)
    if known is not None:
        # The same text again (a definition planned again without an entry it cannot have):
        # planners read the document, never change it.
        _last_loaded[:] = [text, *known]
        return known[1]
    try:
        yaml = YAML(typ="rt")
        yaml.Constructor = _keep_merge_keys()
        node = yaml.compose(text)
        data = yaml.constructor.construct_document(node) if node is not None else None
    except YAMLError as exc:
        raise InstrumentError(f"cannot parse YAML: {_one_line(exc)}") from None
    except RecursionError:
        raise InstrumentError("cannot parse YAML: nested too deeply") from None
    _last_loaded[:] = [text, node, data]
    _recent[text] = (node, data)
    while len(_recent) > 4:
        del _recent[next(iter(_recent))]
    return data


class Unreadable(Exception):
    """libyaml cannot read a text (or the C extension is missing): use the round-trip loader."""


@functools.lru_cache(maxsize=None)
def libyaml_loader() -> Optional[type]:
    """PyYAML's libyaml safe loader, refusing duplicate keys as ruamel.yaml does; None without it."""
    try:
        from yaml import CSafeLoader
        from yaml.nodes import ScalarNode
    except ImportError:
        return None

    class StrictLoader(CSafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True) if isinstance(key_node, ScalarNode) else id(key_node)
                if key in seen:
                    raise Unreadable(f"duplicate key {key!r}")
                seen.add(key)
            return super().construct_mapping(node, deep)

    return StrictLoader


def libyaml_load(text: str) -> Any:
    """``text`` as the safe loader reads it, in C: a few per cent of :func:`load`'s cost, and how
    Azure ML (``yaml.safe_load``) reads a definition. Raises :class:`Unreadable` where libyaml
    is missing or cannot read the text (a YAML 1.2 form it does not know)."""
    loader = libyaml_loader()
    if loader is None:
        raise Unreadable("no libyaml")
    import yaml

    try:
        return yaml.load(text, Loader=loader)
    except (yaml.YAMLError, RecursionError, TypeError, ValueError) as exc:
        raise Unreadable(str(exc)) from None


def _one_line(exc: Exception) -> str:
    """``line L, column C: problem`` from a YAML error (without the parser's quoted source and caret)."""
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if problem and mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return " ".join(str(exc).split())


def composed(text: str) -> Any:
    """The composed node graph of ``text``, merge keys as written: that of the last load when it was this text."""
    if _last_loaded[0] is not text and _last_loaded[0] != text:
        load(text)
    return _last_loaded[1]


def loaded(text: str) -> Any:
    """What :func:`load` gives for ``text``: the last load's values when it was this text (read them, never change them)."""
    if _last_loaded[0] is not text and _last_loaded[0] != text:
        return load(text)
    return _last_loaded[2]


def verify(result: str, original: str) -> Any:
    """Refuse YAML that does not load or does not strip back to the original; the loaded result."""
    if not markers.strips_back_to(result, original, yaml=True):
        raise InstrumentError("internal error: the result does not strip back to the original")
    try:
        return load(result)
    except InstrumentError as exc:
        raise InstrumentError(f"internal error: the result is not valid YAML: {exc}") from None
