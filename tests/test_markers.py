"""The marker convention: fenced whole-line blocks that strip removes exactly."""

from __future__ import annotations

import re

import pytest

from instrument.codemods.fences.markers import BEGIN, END, LABEL_CALL, LABEL_FLAGS, Insertion, MarkerError, find_blocks, insert_blocks, remove_blocks

#: Registered labels (a fence with any other label is not a fence).
X, ONE, TWO = LABEL_CALL, LABEL_CALL, LABEL_FLAGS


def block(label=X, body=("pass",), before=0, indent="", replaces=0):
    return Insertion(before, indent, label, list(body), replaces)


@pytest.mark.parametrize(
    ("source", "insertions", "newline", "expected"),
    [
        pytest.param("a\n", [block(before=1)], "\n", f"a\n{BEGIN}: {X}\npass\n{END}\n", id="append"),
        pytest.param("a\n", [block(before=0)], "\n", f"{BEGIN}: {X}\npass\n{END}\na\n", id="prepend"),
        pytest.param(
            "a\r\nb\r\n", [block(before=1)], "\r\n", f"a\r\n{BEGIN}: {X}\r\npass\r\n{END}\r\nb\r\n", id="crlf"
        ),
        pytest.param("a", [block(before=1)], "\n", f"a\n{BEGIN}: {X}\npass\n{END}", id="no-final-newline"),
        pytest.param(
            "if x:\n\ty\n", [block(before=2, indent="\t")], "\n", f"if x:\n\ty\n\t{BEGIN}: {X}\n\tpass\n\t{END}\n", id="tab-indent"
        ),
        pytest.param(
            "keep\nold = 1\n",
            [block(before=1, body=["new = 2"], replaces=1)],
            "\n",
            f"keep\n{BEGIN}: {X}\n#:old = 1\nnew = 2\n{END}\n",
            id="replace",
        ),
        pytest.param(
            "old = (1,\n       2)",
            [block(before=0, body=["new = 3"], replaces=2)],
            "\n",
            f"{BEGIN}: {X}\n#:old = (1,\n#:       2)\nnew = 3\n{END}",
            id="replace-last-lines-without-newline",
        ),
        pytest.param(
            "a\n",
            [block(before=0, label=ONE), block(before=0, label=TWO)],
            "\n",
            f"{BEGIN}: {ONE}\npass\n{END}\n{BEGIN}: {TWO}\npass\n{END}\na\n",
            id="two-at-one-place",
        ),
        pytest.param("", [block(before=0)], "\n", f"{BEGIN}: {X}\npass\n{END}\n", id="empty"),
    ],
)
def test_insert_and_remove(source, insertions, newline, expected):
    result = insert_blocks(source, insertions, newline)
    assert result == expected
    assert remove_blocks(result) == source


@pytest.mark.parametrize(
    "source",
    [
        "x = 1\n",
        "s = '''\n# >>> instrument: not a fence, a string\n'''\n",
        "# >>> instrumentation is a different word\n",
        "",
    ],
)
def test_noop(source):
    assert find_blocks(source) == []
    assert remove_blocks(source) == source


def test_fence_in_a_string_is_not_a_fence():
    source = f"s = '''\n{BEGIN}: {X}\n{END}\n'''\n{BEGIN}: {X}\ny = 1\n{END}\n"
    assert remove_blocks(source) == f"s = '''\n{BEGIN}: {X}\n{END}\n'''\n"


def test_indented_fences_and_trailing_spaces():
    source = f"def f():\n    {BEGIN}: {X}\n    pass\n    {END}  \n    return 1\n"
    assert remove_blocks(source) == "def f():\n    return 1\n"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (f"{BEGIN}: {X}\n{BEGIN}: {X}\n{END}\n", "line 2: instrument block opened inside the block opened at line 1"),
        (f"{BEGIN}: {X}\nx = 1\n", "line 1: instrument block is never closed"),
    ],
)
def test_broken_fences(source, message):
    with pytest.raises(MarkerError, match=message):
        find_blocks(source)


def test_insertion_right_after_a_replaced_run():
    result = insert_blocks("a\nb\nc\n", [block(before=1, body=["B"], replaces=1), block(before=2, body=["after"])], "\n")
    assert result == f"a\n{BEGIN}: {X}\n#:b\nB\n{END}\n{BEGIN}: {X}\nafter\n{END}\nc\n"
    assert remove_blocks(result) == "a\nb\nc\n"


@pytest.mark.parametrize(
    ("insertions", "message"),
    [
        ([block(before=5)], "outside the file"),
        ([block(before=1, replaces=3)], "outside the file"),
        ([block(before=0, replaces=2), block(before=1)], "falls inside a replaced run"),
        ([block(before=0, replaces=1), block(before=0, replaces=1)], "two blocks replace line 1"),
    ],
)
def test_impossible_insertions(insertions, message):
    with pytest.raises(ValueError, match=message):
        insert_blocks("a\nb\n", insertions, "\n")


# Fence look-alikes around string literals that span lines: inside one (content), between the
# parts of implicitly joined literals (comments), after a backslash-continued short string.
STRING_SHAPES = [
    f"s = '''\n{BEGIN}: {X}\n{END}\n'''\n{BEGIN}: {X}\ny = 1\n{END}\n",
    f"s = ('a'\n{BEGIN}: {X}\n{END}\n'b')\n",
    f"s = ('''a\n''' 'b'\n{BEGIN}: {X}\n{END}\n)\n",
    f"s = 'a\\\n{BEGIN}: {X}\\\n{END}'\n",
    f"s = f'''{{1}}\n{BEGIN}: {X}\n{END}\n'''\n",
    f"s = b'''\n{BEGIN}: {X}\n{END}\n'''\n",
    f"def f():\n    '''Doc\n    {BEGIN}: {X}\n    '''\n    {BEGIN}: {X}\n    pass\n    {END}\n",
    f"x = [\n    1,\n{BEGIN}: {X}\n    2,\n{END}\n]\n",
]


def _python_sources():
    from tests.fixture_cases import FIXTURES

    for path in sorted(FIXTURES.rglob("*.py")):
        text = path.read_bytes().decode("utf-8", "replace").lstrip("\ufeff")
        if BEGIN in text:
            yield text
    yield from STRING_SHAPES


def test_fences_found_with_the_string_spans_of_cpythons_tree_are_the_tokenizers():
    """``check`` decides that a fence is a comment from CPython's tree (outside every string
    literal that spans lines) and tokenizes only when a fence lies inside one: same blocks."""
    import ast

    from instrument.codemods.check.values import nodes_by_type
    from instrument.codemods.fences import marker_scan

    compared = 0
    for source in _python_sources():
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        spans = marker_scan.string_spans(nodes_by_type(tree))
        try:
            expected = find_blocks(source)
        except MarkerError as exc:
            with pytest.raises(MarkerError, match=re.escape(str(exc))):
                find_blocks(source, strings=spans)
        else:
            assert find_blocks(source, strings=spans) == expected, source
        compared += 1
    assert compared >= 80


@pytest.mark.parametrize(("source", "blocks"), [(s, n) for s, n in zip(STRING_SHAPES, (1, 1, 1, 0, 0, 0, 1, 1))])
def test_fences_around_strings_that_span_lines(source, blocks):
    from instrument.codemods.check import findings

    assert len(find_blocks(source)) == blocks
    assert [f.message for f in findings.check_python(source)] == [findings.BLOCK_MESSAGE] * blocks
