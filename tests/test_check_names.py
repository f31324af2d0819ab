"""How ``check`` resolves called names through imports (Python's ``ast``, no LibCST).

Cases beyond tests/test_check.py: submodule imports, relative and star
imports, names bound by several imports, columns on non-ASCII lines, and
that checking never imports LibCST.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from instrument.codemods.check import findings as check


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        pytest.param("import debugpy.server\ndebugpy.listen(1)\n", [(2, 1, "debugpy.listen")], id="submodule-import"),
        pytest.param("import debugpy as d\nimport socket as d\nd.listen(1)\n", [(3, 1, "debugpy.listen")],
                     id="several-imports-any-counts"),
        pytest.param("from . import debugpy\ndebugpy.listen(1)\n", [(2, 1, "debugpy.listen")],
                     id="relative-import-goes-by-spelling"),
        pytest.param("from debugpy import *\nlisten(1)\n", [(2, 1, "debugpy.listen")], id="star-import"),
        pytest.param("from os import *\nlisten(1)\n", [], id="star-import-of-another-module"),
        pytest.param("import mydebug as debugpy\ndebugpy.listen(1)\n", [], id="other-module-named-debugpy"),
        pytest.param("s = 'é'; import debugpy; debugpy.listen(1)\n", [(1, 26, "debugpy.listen")],
                     id="column-counts-characters-not-bytes"),
        pytest.param("import debugpy\n(debugpy.listen)(1)\nget()(1)\n", [(2, 1, "debugpy.listen")],
                     id="parenthesised-callee"),
    ],
)
def test_resolution(src: str, expected: list[tuple[int, int, str]]) -> None:
    assert [(f.line, f.col, f.name) for f in check.check_python(src)] == expected


def test_check_does_not_import_libcst() -> None:
    code = (
        "import sys\nfrom instrument.codemods.check import findings as check\n"
        "check.check_python('import debugpy\\ndebugpy.listen(1)\\n')\n"
        "print('libcst' in sys.modules)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
