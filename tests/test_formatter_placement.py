"""A formatter run on an instrumented file leaves no blank line outside the blocks.

black and ruff format choose the blank lines before the begin fence from
the code around it; strip leaves those lines in the file. The table of
placements lives in scripts/formatter_roundtrip.py, which measures the same
on any files (the standard library, a user's tree).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from instrument.codemods.fences import fence_layout

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("formatter_roundtrip", ROOT / "scripts" / "formatter_roundtrip.py")
assert SPEC is not None and SPEC.loader is not None
roundtrip = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(roundtrip)

PLACEMENTS = roundtrip.PLACEMENTS

#: Where ruff format puts no blank line before a comment that blank lines
#: separate from the definition below it (black puts the one the imports or
#: the module docstring ask for): the fence then needs the formatter run again
#: after strip. Every other placement strips back exactly under ruff too.
RUFF_BLANK_LINES_AT_THE_FENCE = {
    "imports-then-code", "docstring-imports-then-code", "docstring-blank-imports", "docstring-then-code",
    "docstring-two-blank-code", "docstring-then-comment", "comment-then-imports", "imports-then-comment",
    "imports-then-if",
}


def test_the_table_covers_the_placements_that_used_to_leave_blank_lines():
    assert len(PLACEMENTS) >= 20
    assert {"docstring-then-code", "comment-blank-code", "imports-blank-class", "try-import-then-code"} <= set(PLACEMENTS)
    assert RUFF_BLANK_LINES_AT_THE_FENCE <= set(PLACEMENTS)


#: The helper module beside the script (add's default), and the whole helper in it (--inline).
LAYOUTS = [pytest.param(roundtrip.HELPER, id="beside"), pytest.param(None, id="inline")]


@pytest.mark.parametrize("helper", LAYOUTS)
@pytest.mark.parametrize("name", sorted(PLACEMENTS))
def test_black_then_strip_gives_the_formatted_original(name, helper):
    assert roundtrip.outcome(PLACEMENTS[name], "train.py", "train", roundtrip.black_format, helper) == roundtrip.EXACT


@pytest.mark.lint  # ruff comes with the lint extra
@pytest.mark.parametrize("helper", LAYOUTS)
@pytest.mark.parametrize("name", sorted(PLACEMENTS))
def test_ruff_format_then_strip_gives_the_formatted_original(name, helper):
    # The loading statement beside a module's first code needs no blank lines of its own.
    inline_blank = helper is None and name in RUFF_BLANK_LINES_AT_THE_FENCE
    expected = roundtrip.REFORMAT_BLANK if inline_blank else roundtrip.EXACT
    assert roundtrip.outcome(PLACEMENTS[name], "train.py", "train", roundtrip.ruff_format, helper) == expected


@pytest.mark.parametrize(
    ("source", "leads"),
    [
        ("def f():\n    pass\n", True),
        ("@decorated\ndef f():\n    pass\n", True),
        ("class A:\n    pass\n", True),
        ("# about f\ndef f():\n    pass\n", True),
        ("# a section\n\ndef f():\n    pass\n", False),  # the comment stands alone: so does the fence
        ("x = 1\n", False),
        ("if x:\n    pass\n", False),
    ],
    ids=["def", "decorated", "class", "comment-above-def", "comment-then-blank-then-def", "code", "compound"],
)
def test_the_fence_leads_the_helper_only_above_a_definition(source, leads):
    import libcst as cst

    statement = cst.parse_module("import sys\n" + source).body[1]
    assert fence_layout.leads_definition(statement, statement.leading_lines) is leads
