"""Take over debug arguments written by hand into SDK v1 steps (``add --take-over``).

A pipeline that followed the guide by hand passes the debug flags itself::

    PythonScriptStep(..., arguments=["quora_training", features, '--remote_debug',
                                     '--remote_debug_connection_timeout', 300,
                                     '--remote_debug_client_ip', '70.106.210.186',
                                     '--remote_debug_port', 5678])

Without ``--take-over`` add refuses such a step. With it, :func:`take_over`
drops each ``--remote_debug*`` item of the step's ``arguments=`` list or tuple
literal, with the value that follows a flag that takes one, and keeps
everything else as written; add then appends its own flags as for any step.
What is dropped is gone for good (strip gives back the step without it), as
for the hand-written code of a training script (see :mod:`take_over`).
"""

from __future__ import annotations

from typing import Optional, Union

import libcst as cst
from libcst.metadata import MetadataWrapper

from instrument.codemods.python.call_arguments import argument_index
from instrument.codemods.core.options import Options
from instrument.codemods.python.debug_statements import FLAG_PREFIX

#: Flags that stand alone (argparse ``store_true``); every other one takes the next item.
SWITCHES = frozenset({"--remote_debug", "--remote_debug_subprocesses"})

Sequence = Union[cst.List, cst.Tuple]


def _text(element: cst.BaseElement) -> Optional[str]:
    value = element.value
    if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
        text = value.evaluated_value
        return text if isinstance(text, str) else None
    return None


def _dropped(elements) -> set:
    """Indexes of the hand-written flags and their values."""
    dropped: set = set()
    index = 0
    while index < len(elements):
        text = _text(elements[index])
        if isinstance(elements[index], cst.Element) and text is not None and text.startswith(FLAG_PREFIX):
            dropped.add(index)
            takes_value = "=" not in text and text not in SWITCHES
            following = elements[index + 1] if index + 1 < len(elements) else None
            if takes_value and isinstance(following, cst.Element) and not (_text(following) or "").startswith("--"):
                dropped.add(index + 1)
                index += 1
        index += 1
    return dropped


def without_debug_flags(value: Sequence) -> Sequence:
    """The list or tuple literal without hand-written flags, in its own layout."""
    elements = list(value.elements)
    dropped = _dropped(elements)
    if not dropped:
        return value
    kept = [element for index, element in enumerate(elements) if index not in dropped]
    if kept and len(elements) - 1 in dropped:
        # The last items went: the new last one ends as the old last one did
        # (no comma before "]", or a trailing comma and the line break).
        kept[-1] = kept[-1].with_changes(comma=_last_comma(kept[-1].comma, elements[-1].comma))
    if isinstance(value, cst.Tuple) and len(kept) == 1 and not isinstance(kept[0].comma, cst.Comma):
        kept[0] = kept[0].with_changes(comma=cst.Comma())  # ("a",): without the comma it is not a tuple
    if not kept:
        return value.with_changes(elements=[], **_closed(value))
    if len(elements) - 1 in dropped:
        return value.with_changes(elements=kept, **_closing(value, kept[-1]))
    return value.with_changes(elements=kept)


def _last_comma(own, last):
    """The comma that ended the list, with the kept item's own comment (not a dropped one's)."""
    if not (isinstance(last, cst.Comma) and isinstance(last.whitespace_after, cst.ParenthesizedWhitespace)):
        return last
    first_line = cst.TrailingWhitespace()
    if isinstance(own, cst.Comma) and isinstance(own.whitespace_after, cst.ParenthesizedWhitespace):
        first_line = own.whitespace_after.first_line
    return last.with_changes(whitespace_after=last.whitespace_after.with_changes(first_line=first_line, empty_lines=[]))


def _closing(value: Sequence, last_kept: cst.BaseElement) -> dict:
    """The closing bracket on its own line after the kept item's comment, not a dropped one's."""
    bracket: Union[cst.RightSquareBracket, cst.RightParen]
    if isinstance(value, cst.List):
        name, bracket = "rbracket", value.rbracket
    elif value.rpar:
        name, bracket = "rpar", value.rpar[0]
    else:
        return {}
    before = bracket.whitespace_before
    if not isinstance(before, cst.ParenthesizedWhitespace):
        return {}
    first_line = cst.TrailingWhitespace()
    own = last_kept.comma
    if isinstance(own, cst.Comma) and isinstance(own.whitespace_after, cst.ParenthesizedWhitespace):
        first_line = own.whitespace_after.first_line
    bracket = bracket.with_changes(whitespace_before=before.with_changes(first_line=first_line, empty_lines=[]))
    return {name: bracket} if name == "rbracket" else {name: [bracket, *value.rpar[1:]]}


def _closed(value: Sequence) -> dict:
    """``[]`` / ``()`` with nothing between the brackets."""
    if isinstance(value, cst.List):
        return {"lbracket": cst.LeftSquareBracket(), "rbracket": cst.RightSquareBracket()}
    return {"lpar": [cst.LeftParen()], "rpar": [cst.RightParen()]}


class _StepArguments(cst.CSTTransformer):
    def __init__(self, steps) -> None:
        super().__init__()
        self.steps = steps

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        if original not in self.steps:
            return updated
        from instrument.codemods.kinds.pipeline.steps import STEP_PARAMETERS

        index = argument_index(updated, "arguments", STEP_PARAMETERS, 0, required=False)
        if index is None:
            return updated
        value = updated.args[index].value
        if not isinstance(value, (cst.List, cst.Tuple)) or (isinstance(value, cst.Tuple) and not value.lpar):
            return updated
        args = list(updated.args)
        args[index] = args[index].with_changes(value=without_debug_flags(value))
        return updated.with_changes(args=args)


def take_over(source: str, module: cst.Module, options: Options) -> str:
    """``source`` without hand-written debug flags in the steps add instruments."""
    from instrument.codemods.kinds.pipeline.steps import StepAnalysis

    analysis = StepAnalysis(options)
    MetadataWrapper(module, unsafe_skip_copy=True).visit(analysis)
    if not analysis.steps:
        return source
    result = module.visit(_StepArguments(set(analysis.steps)))
    return result.code if result is not module else source
