"""debugpy in a conda environment written as a Python dict literal.

``Environment(conda_file={"dependencies": ["python=3.10", {"pip": [...]}]})``:
``"debugpy"`` goes first into the ``pip`` list; without one, ``"pip"`` and
``{"pip": ["debugpy"]}`` go first into ``dependencies``. The literal keeps its
layout (one element per line stays so).
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from instrument.codemods.python.call_arguments import quoted
from instrument.codemods.core.packages import DEBUGPY, requirement_name


def _key(element) -> Optional[str]:
    if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
        value = element.key.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _strings(node: cst.List) -> list[str]:
    values = (e.value.evaluated_value for e in node.elements if isinstance(e.value, cst.SimpleString))
    return [value for value in values if isinstance(value, str)]  # not bytes: b"..." names no package


def prepended(node: cst.List, codes: list[str]) -> cst.List:
    """The list with new elements first, separated as its first element is from the bracket."""
    after = node.lbracket.whitespace_after
    separator: cst.BaseParenthesizableWhitespace = cst.SimpleWhitespace(" ")
    if isinstance(after, cst.ParenthesizedWhitespace):
        separator = after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    new = []
    for index, code in enumerate(codes):
        last = index == len(codes) - 1
        comma = cst.Comma(whitespace_after=separator) if node.elements or not last else cst.MaybeSentinel.DEFAULT
        new.append(cst.Element(cst.parse_expression(code), comma=comma))
    return node.with_changes(elements=[*new, *node.elements])


def with_debugpy(conda: cst.Dict, quote: str) -> Optional[cst.Dict]:
    """The dict with debugpy among its pip packages; None when it has it or has no dependency list."""
    elements = list(conda.elements)
    for index, element in enumerate(elements):
        if _key(element) != "dependencies" or not isinstance(element.value, cst.List):
            continue
        dependencies = element.value
        for position, item in enumerate(dependencies.elements):
            pip_list = _pip_list(item.value)
            if pip_list is None:
                continue
            pip_dict, pip_index, pip_value = pip_list
            if DEBUGPY in {requirement_name(s) for s in _strings(pip_value)}:
                return None
            pip_elements = list(pip_dict.elements)
            pip_elements[pip_index] = pip_elements[pip_index].with_changes(
                value=prepended(pip_value, [quoted(DEBUGPY, quote)])
            )
            items = list(dependencies.elements)
            items[position] = item.with_changes(value=pip_dict.with_changes(elements=pip_elements))
            elements[index] = element.with_changes(value=dependencies.with_changes(elements=items))
            return conda.with_changes(elements=elements)
        if DEBUGPY in {requirement_name(s) for s in _strings(dependencies)}:
            return None
        codes = [] if "pip" in {requirement_name(s) for s in _strings(dependencies)} else [quoted("pip", quote)]
        codes.append("{" + f"{quoted('pip', quote)}: [{quoted(DEBUGPY, quote)}]" + "}")
        elements[index] = element.with_changes(value=prepended(dependencies, codes))
        return conda.with_changes(elements=elements)
    return None


def _pip_list(value) -> Optional[tuple[cst.Dict, int, cst.List]]:
    if not isinstance(value, cst.Dict):
        return None
    for index, element in enumerate(value.elements):
        if _key(element) == "pip" and isinstance(element.value, cst.List):
            return value, index, element.value
    return None


def appended_element(node: cst.Dict, element: cst.DictElement) -> cst.Dict:
    """The dict literal with ``element`` last, in its layout (one per line stays so, comments stay put)."""
    elements = list(node.elements)
    if not elements:
        return node.with_changes(elements=[element])
    last = elements[-1]
    if len(elements) > 1:
        comma = elements[-2].comma
        assert isinstance(comma, cst.Comma), "every element but the last is followed by a comma"
        before = comma.whitespace_after
    else:
        before = node.lbrace.whitespace_after
    closing = node.rbrace.whitespace_before
    if isinstance(closing, cst.ParenthesizedWhitespace):  # `}` on its own line: a comment after the last element stays put
        to_next = closing.with_changes(last_line=_line_start(before, closing), indent=_indent(before, closing))
        elements[-1] = last.with_changes(comma=cst.Comma(whitespace_after=to_next))
        rbrace = node.rbrace.with_changes(whitespace_before=closing.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[]))
        return node.with_changes(elements=elements + [element.with_changes(comma=last.comma)], rbrace=rbrace)
    elements[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return node.with_changes(elements=elements + [element.with_changes(comma=last.comma)])


def _line_start(before, after):
    return before.last_line if isinstance(before, cst.ParenthesizedWhitespace) else after.last_line


def _indent(before, after) -> bool:
    return before.indent if isinstance(before, cst.ParenthesizedWhitespace) else after.indent
