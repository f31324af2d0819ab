"""Editing the arguments of a call in its own layout (LibCST).

Used by the pipeline codemod to add ``arguments=``/``allow_reuse=`` to a
``PythonScriptStep(...)`` and ``'debugpy'`` to ``pip_packages``: find the
argument for a parameter (keyword, positional, or possibly inside
``*args``/``**kwargs``), append to a list while keeping the original
expression recognisable, and add keywords in the call's own layout (one per
line stays one per line, a comment after the last argument stays put).
"""

from __future__ import annotations

from typing import Optional, Sequence

import libcst as cst

from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.python import cst_walk

# Expressions that can stand left of `+` without parentheses. A sum is not among
# them: `(a + b) + [...]` keeps the original expression one operand.
_ATOM = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.List, cst.Tuple)


def is_name(node: cst.CSTNode, value: str) -> bool:
    """Whether ``node`` is the plain name ``value`` (``None``, ``False``), parenthesized or not."""
    return isinstance(node, cst.Name) and node.value == value


def quoted(value: str, quote: str) -> str:
    text = repr(value)
    if quote == '"' and text.startswith("'") and '"' not in value:
        text = f'"{text[1:-1]}"'
    return text


def preferred_quote(node: cst.CSTNode, default: str) -> str:
    """The quote style of the strings in ``node`` (the call or list we add to)."""
    strings = double = 0
    for found, _ in cst_walk.walk(node):  # a visitor would rebuild ``node``
        if type(found) is cst.SimpleString:
            strings += 1
            double += found.quote.endswith('"')
    return majority_quote(strings, double) if strings else default


def majority_quote(strings: int, double: int) -> str:
    """The quote most of ``strings`` literals use, ``double`` of them in double quotes (``'`` on a tie)."""
    return '"' if double > strings - double else "'"


def code_of(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def ambiguous(line: int, star: str, value: cst.BaseExpression, name: str) -> InstrumentError:
    return InstrumentError(f"line {line}: cannot tell whether {star}{code_of(value)} passes {name}; pass {name}= explicitly")


def argument_index(
    call: cst.Call, name: str, parameters: Sequence[str], line: int, required: bool = True,
    through_mapping: bool = False,
) -> Optional[int]:
    """Index in ``call.args`` of the argument for parameter ``name``, or None.

    With ``required``, an argument that ``*args``/``**kwargs`` may or may not
    pass is an error: adding it again would fail at run time. With
    ``through_mapping``, a ``**kwargs`` that may pass it gives None instead
    (the caller merges into the mapping).
    """
    position = parameters.index(name)
    for index, arg in enumerate(call.args):
        if arg.keyword is not None and arg.keyword.value == name:
            return index  # wherever it stands, even after a **mapping
    for index, arg in enumerate(call.args):
        if arg.star == "*" and index <= position:
            if required:
                raise ambiguous(line, arg.star, arg.value, name)
            return None
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    if len(positional) > position:
        return call.args.index(positional[position])
    mapping = double_star(call)
    if required and not through_mapping and mapping is not None:
        raise ambiguous(line, "**", mapping.value, name)
    return None


def double_star(call: cst.Call) -> Optional[cst.Arg]:
    return next((arg for arg in call.args if arg.star == "**"), None)


def merged_into_mapping(args: list[cst.Arg], items: list[tuple[str, str]], line: int, quote: str) -> list[cst.Arg]:
    """``**kw`` -> ``**{**kw, "arguments": list(kw.get("arguments") or []) + [...], ...}``.

    Whether ``kw`` holds the parameter is only known at run time; the merged
    mapping is right either way (a keyword next to it would be passed twice).
    ``kw`` is read twice, so it must be a plain name or attribute.
    """
    stars = [i for i, arg in enumerate(args) if arg.star == "**"]
    mapping = args[stars[0]].value
    if len(stars) > 1 or not isinstance(mapping, (cst.Name, cst.Attribute)):
        raise ambiguous(line, "**", mapping, items[0][0])
    source = code_of(mapping)
    entries = [f"**{source}"]
    for key, value in items:
        if key == "arguments":
            value = f"list({source}.get({quoted(key, quote)}) or []) + {value}"
        entries.append(f"{quoted(key, quote)}: {value}")
    args[stars[0]] = args[stars[0]].with_changes(value=cst.parse_expression("{" + ", ".join(entries) + "}"))
    return args


def string_items(value: cst.BaseExpression) -> list[str]:
    """The string literals directly inside a list or tuple literal."""
    elements = value.elements if isinstance(value, (cst.List, cst.Tuple)) else ()
    items = (e.value.evaluated_value for e in elements if isinstance(e.value, cst.SimpleString))
    return [item for item in items if isinstance(item, str)]  # not bytes: b"..." names no flag or package


def appended(left: cst.BaseExpression, right: str) -> cst.BaseExpression:
    """``left + right``, the original expression kept recognisable in front."""
    if is_name(left, "None"):
        return cst.parse_expression(right)
    if not isinstance(left, _ATOM) and not left.lpar:
        left = left.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return cst.BinaryOperation(left, cst.Add(), cst.parse_expression(right))


def with_keywords(call: cst.Call, new: list[tuple[str, str]], arg_indent: str) -> cst.Call:
    """The call with ``keyword=value`` arguments appended in the call's own layout."""
    args = list(call.args)
    tight = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
    equal = next((a.equal for a in args if a.keyword is not None), tight)  # `x=1` or `x = 1`, as the call
    added = [cst.Arg(cst.parse_expression(v), keyword=cst.Name(k), equal=equal) for k, v in new]
    if not args:
        return call.with_changes(args=_chained(added, cst.MaybeSentinel.DEFAULT, " "))
    last = args[-1]
    indent = cst.SimpleWhitespace(arg_indent)
    line_start = cst.ParenthesizedWhitespace(indent=False, last_line=indent)
    if not isinstance(last.comma, cst.Comma):
        before_close = last.whitespace_after_arg
        if not isinstance(before_close, cst.ParenthesizedWhitespace):
            previous = args[-2].comma if len(args) > 1 else None
            if isinstance(previous, cst.Comma) and isinstance(previous.whitespace_after, cst.ParenthesizedWhitespace):
                # One argument per line, `)` after the last: one line each.
                args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=line_start))
                return call.with_changes(args=args + _chained(added, cst.MaybeSentinel.DEFAULT, line_start))
            args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))  # `f(a, x=1)`
            return call.with_changes(args=args + _chained(added, cst.MaybeSentinel.DEFAULT, " "))
        # `)` on a line of its own after the last argument, no trailing comma:
        # the new arguments go on lines of their own before it.
        to_next = before_close.with_changes(indent=False, last_line=indent)
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=to_next), whitespace_after_arg=cst.SimpleWhitespace(""))
        added = _chained(added, cst.MaybeSentinel.DEFAULT, line_start)
        closing = before_close.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        added[-1] = added[-1].with_changes(whitespace_after_arg=closing)
        return call.with_changes(args=args + added)
    trailing = last.comma
    after = trailing.whitespace_after
    if isinstance(after, cst.ParenthesizedWhitespace):
        # One argument per line: the new ones get lines of their own, a comment
        # after the last argument stays on its line.
        to_next = after.with_changes(indent=False, last_line=indent)
        args[-1] = last.with_changes(comma=trailing.with_changes(whitespace_after=to_next))
        last_comma = cst.Comma(whitespace_after=after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[]))
        return call.with_changes(args=args + _chained(added, last_comma, line_start))
    args[-1] = last.with_changes(comma=trailing.with_changes(whitespace_after=cst.SimpleWhitespace(" ")))
    return call.with_changes(args=args + _chained(added, cst.Comma(whitespace_after=after), " "))


def _chained(args: list[cst.Arg], last_comma, separator) -> list[cst.Arg]:
    if isinstance(separator, str):
        separator = cst.SimpleWhitespace(separator)
    commas = [cst.Comma(whitespace_after=separator)] * (len(args) - 1) + [last_comma]
    return [arg.with_changes(comma=comma) for arg, comma in zip(args, commas)]
