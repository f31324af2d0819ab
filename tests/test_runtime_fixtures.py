"""The golden ``after`` files are exactly what scripts/regenerate_fixtures.py writes."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("regenerate_fixtures", ROOT / "scripts" / "regenerate_fixtures.py")
assert SPEC is not None and SPEC.loader is not None
regenerate = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(regenerate)


def test_the_committed_fixtures_are_what_the_script_generates(capsys):
    assert regenerate.main(["--check"]) == 0, capsys.readouterr().out
    assert capsys.readouterr().out == ""


def test_every_add_kind_has_cases():
    kinds = {kind for kind, _, _ in regenerate.cases()}
    assert kinds == set(regenerate.KINDS)
    assert sum(1 for _ in regenerate.cases()) >= 60


def test_the_script_rewrites_a_stale_after_file_and_check_reports_it(tmp_path, capsys):
    for kind, case in [("train", "inline_tabs"), ("score", "crlf"), ("pipeline", "client_ip")]:
        shutil.copytree(ROOT / "fixtures" / kind / case, tmp_path / kind / case)
    stale = tmp_path / "train" / "inline_tabs" / "after.py"
    good = stale.read_bytes()
    stale.write_bytes(good.replace(b"5678", b"9999"))
    untouched = {p: p.read_bytes() for p in tmp_path.rglob("after.*") if p != stale}

    assert regenerate.main(["--check", "--fixtures", str(tmp_path)]) == 1
    assert capsys.readouterr().out.strip() == f"{tmp_path.name}/train/inline_tabs/after.py: would change"
    assert stale.read_bytes() != good  # --check writes nothing

    assert regenerate.main(["--fixtures", str(tmp_path)]) == 0
    assert "train/inline_tabs/after.py: regenerated" in capsys.readouterr().out
    assert stale.read_bytes() == good
    assert {p: p.read_bytes() for p in untouched} == untouched
    assert regenerate.main(["--check", "--fixtures", str(tmp_path)]) == 0


def test_a_case_that_fails_is_reported_and_left_alone(tmp_path, capsys):
    folder = tmp_path / "score" / "broken"
    folder.mkdir(parents=True)
    (folder / "before.py").write_text("def init(:\n", encoding="utf-8")
    (folder / "after.py").write_text("kept\n", encoding="utf-8")
    assert regenerate.main(["--fixtures", str(tmp_path)]) == 1
    assert "score/broken/after.py: cannot generate: " in capsys.readouterr().err
    assert (folder / "after.py").read_text(encoding="utf-8") == "kept\n"
