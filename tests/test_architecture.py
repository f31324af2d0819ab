"""The architecture rules (tests/architecture.py) over the code base, and on a small package that breaks them.

The known breaks are listed: a new one fails the test, and so does one that is
gone but still listed (the list only shrinks).
"""

from __future__ import annotations

from pathlib import Path

from tests.architecture import problems

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"instrument.codemods": ROOT / "codemods", "instrument": ROOT / "instrument"}

#: Breaks the code base still has, to be paid off (each a line of problems()).
KNOWN: set[str] = set()  # nothing breaks the rules; a new break fails the test above


def _current() -> set[str]:
    return problems(PACKAGES, "instrument.codemods", "instrument", "instrument.codemods.kinds")


def test_no_new_break_of_the_architecture_rules():
    new = _current() - KNOWN
    assert not new, "\n".join(sorted(new))


def test_the_list_of_known_breaks_only_shrinks():
    paid = KNOWN - _current()
    assert not paid, "no longer a break, take it off KNOWN:\n" + "\n".join(sorted(paid))


def test_each_rule_fails_on_a_package_that_breaks_it(tmp_path):
    pure, io = tmp_path / "pure", tmp_path / "io"
    (pure / "kinds").mkdir(parents=True)
    io.mkdir()
    (pure / "kinds" / "three").mkdir()
    files = {
        pure / "__init__.py": "",
        pure / "a.py": "from pkg.pure import b\n",
        pure / "b.py": "def f():\n    from pkg.pure.a import _hidden\n",  # a circle, through a function's import
        pure / "c.py": "import pkg.io.files\n",
        pure / "kinds" / "__init__.py": "",
        pure / "kinds" / "base.py": "",
        pure / "kinds" / "one.py": "from pkg.pure.kinds import base\n",
        pure / "kinds" / "two.py": "from pkg.pure.kinds.one import thing\n",
        # a kind that is a package: its own modules import each other, never another kind's
        pure / "kinds" / "three" / "__init__.py": "from pkg.pure.kinds.three import plan\n",
        pure / "kinds" / "three" / "plan.py": "from pkg.pure.kinds import base\nfrom pkg.pure.kinds.one import x\n",
        io / "__init__.py": "",
        io / "files.py": "from pkg.pure import a\n",
    }
    for path, text in files.items():
        path.write_text(text)
    found = problems({"pkg.pure": pure, "pkg.io": io}, "pkg.pure", "pkg.io", "pkg.pure.kinds")
    assert found == {
        "circle: pkg.pure.a -> pkg.pure.b",
        "private: pkg.pure.b imports pkg.pure.a._hidden",
        "layer: pkg.pure.c imports pkg.io.files",
        "kind: pkg.pure.kinds.two imports pkg.pure.kinds.one",
        "kind: pkg.pure.kinds.three.plan imports pkg.pure.kinds.one",
    }
