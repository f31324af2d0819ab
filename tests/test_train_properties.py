"""Property tests: for generated training scripts, add and strip are inverses."""

from __future__ import annotations

import keyword

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instrument.codemods.kinds import train as train_kind
from instrument.codemods import kinds
from instrument.codemods.helper import templates
from instrument.codemods.core.options import Options

identifiers = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzéçπ_"), min_size=1, max_size=8
).filter(lambda s: s.isidentifier() and not keyword.iskeyword(s) and not s.startswith("_instrument"))

filler = st.lists(
    st.sampled_from(
        [
            "x = 1",
            "# a comment",
            "",
            "print('hello')  # trailing comment",
            "values = [\n{i}1,\n{i}2,\n]",
            "text = '''\n# >>> instrument: inside a string\n'''",
        ]
    ),
    max_size=3,
)


@st.composite
def scripts(draw):
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    i = draw(st.sampled_from(["    ", "\t", "  "]))
    parser = draw(identifiers.filter(lambda n: n not in {"x", "values", "text"}))  # the filler rebinds those
    namespace = draw(identifiers.filter(lambda n: n != parser))
    known = draw(st.booleans())
    target = f"{namespace}, _rest" if known else namespace
    method = "parse_known_args" if known else "parse_args"
    where = draw(st.sampled_from(["module", "main", "guard", "helper"]))

    def fill(indent):
        return [indent + line.replace("\n", "\n" + indent).format(i=i) for line in draw(filler)]

    lines = []
    if draw(st.booleans()):
        lines.append('"""Docstring."""')
    if draw(st.booleans()):
        lines.append("from __future__ import annotations")
    lines.append(draw(st.sampled_from(["import argparse", "import argparse as ap", "from argparse import ArgumentParser"])))
    ctor = {"import argparse": "argparse.ArgumentParser", "import argparse as ap": "ap.ArgumentParser"}.get(
        lines[-1], "ArgumentParser"
    )
    lines += fill("")
    body = [f"{parser} = {ctor}()", *fill(""), f"{parser}.add_argument('--n', type=int, default=1)"]
    if where == "module":
        lines += body + [f"{target} = {parser}.{method}()"] + fill("")
    elif where == "main":
        lines += ["def main():"] + [i + b for b in body] + [f"{i}{target} = {parser}.{method}()"]
        lines += fill(i) + [f"{i}return {namespace}", "", "main()"]
    elif where == "guard":
        lines += ["if __name__ == '__main__':"] + [i + b for b in body] + [f"{i}{target} = {parser}.{method}()"]
    else:
        lines += ["def get_args():"] + [i + b for b in body] + [f"{i}return {parser}.{method}()"]
        lines += fill("") + [f"{target} = get_args()"]
    text = newline.join(lines)
    if draw(st.booleans()):
        text += newline
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=scripts(), port=st.integers(1, 65535), timeout=st.integers(0, 10_000))
def test_add_strip_round_trip(source, port, timeout):
    options = Options(port=port, timeout=timeout)
    added = train_kind.add(source, options)
    kinds.parse(added)
    assert kinds.strip(added, "train") == source
    assert train_kind.add(added, options) == added
    assert f"default={port}" in added
    # the parser was followed: flags join it and the call gets its namespace
    assert templates.LABEL_FLAGS in added
    assert "\n_instrument_remote_debug()" not in added.replace("\r\n", "\n")
