"""A scenario as JSON on stdin (``tradeoff solve -``): the same results as from its file, file names
read from the current directory, and clear exit-2 errors naming ``<stdin>``."""

from __future__ import annotations

import codecs
import io
import itertools
import json
import math
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import optimizer
from optimizer.cli import EXIT_INFEASIBLE, EXIT_INPUT, EXIT_OK, run
from optimizer.schemas import json_schema

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def json_form(path: Path) -> str:
    """The scenario file as the JSON a program would send."""
    return json.dumps(tomllib.loads(path.read_text(encoding="utf-8")))


def send(data: str | bytes, args: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    """Run ``tradeoff ARGS`` with ``data`` on stdin: the exit code, stdout and stderr."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
    code = run(args)
    out, err = capsys.readouterr()
    return code, out, err


def without_timings(document: Any) -> Any:
    """``document`` without the keys that time the run (they differ between any two runs)."""
    if isinstance(document, dict):
        return {k: without_timings(v) for k, v in document.items() if k not in ("seconds", "solver_seconds")}
    if isinstance(document, list):
        return [without_timings(v) for v in document]
    return document


@pytest.mark.parametrize("name", ["b2b_saas.toml", "local_services.toml"])
def test_a_plan_from_stdin_is_the_plan_from_the_file(name, monkeypatch, capsys):
    """local_services names a campaign CSV and a points CSV: from stdin they are read from the current directory."""
    monkeypatch.chdir(SCENARIOS)
    assert run(["solve", name, "--format", "json", "--variant", "stretch"] if name.startswith("b2b") else
               ["solve", name, "--format", "json"]) == EXIT_OK
    from_file = json.loads(capsys.readouterr().out)
    args = ["solve", "-", "--format", "json"] + (["--variant", "stretch"] if name.startswith("b2b") else [])
    code, out, err = send(json_form(SCENARIOS / name), args, monkeypatch, capsys)
    assert code == EXIT_OK, err
    assert without_timings(json.loads(out)) == without_timings(from_file)


def test_a_frontier_from_stdin_is_the_frontier_from_the_file(monkeypatch, capsys):
    path = SCENARIOS / "b2b_saas.toml"
    assert run(["frontier", str(path), "--format", "json", "--points", "5", "--set", "budget.total=240000"]) == EXIT_OK
    from_file = json.loads(capsys.readouterr().out)
    code, out, err = send(json_form(path), ["frontier", "-", "--format", "json", "--points", "5",
                                            "--set", "budget.total=240000"], monkeypatch, capsys)
    assert code == EXIT_OK, err
    assert from_file["budget"] == 240000 and without_timings(json.loads(out)) == without_timings(from_file)


def test_validate_reads_stdin_once_for_every_variant(monkeypatch, capsys):
    code, out, err = send(json_form(SCENARIOS / "b2b_saas.toml"), ["validate", "-"], monkeypatch, capsys)
    assert code == EXIT_OK, err
    assert "valid" in out and "variants: stretch, mql_focus, sov_push" in out


def test_a_file_the_scenario_names_is_read_from_the_current_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = send(json_form(SCENARIOS / "local_services.toml"), ["solve", "-"], monkeypatch, capsys)
    assert code == EXIT_INPUT and out == ""
    assert "<stdin>" in err and "local_services_campaigns.csv" in err and str(tmp_path) in err


def worked_example() -> str:
    (block,) = re.findall(r"```json\n(.*?)```", (ROOT / "docs" / "embedding.md").read_text(), flags=re.S)
    return block


def test_the_worked_example_of_the_embedding_guide(monkeypatch, capsys):
    """docs/embedding.md's scenario solves from stdin; its plan meets the SOV floor, recomputed from the allocation."""
    scenario = json.loads(worked_example())
    code, out, err = send(worked_example(), ["solve", "-", "--format", "json"], monkeypatch, capsys)
    assert code == EXIT_OK and err == ""
    plan = json.loads(out)
    assert list(Draft202012Validator(json_schema("plan")).iter_errors(plan)) == []
    members = {c["name"] for c in scenario["campaigns"] if "media" in c.get("pools", [])}
    ours = sum(row["impressions"] for row in plan["allocation"] if row["campaign"] in members)
    share = ours / scenario["pools"]["media"]["total_impressions"]
    assert share >= scenario["constraints"][0]["min"] - 1e-6
    assert math.isclose(plan["kpis"]["sov"]["media"], share, rel_tol=1e-9)
    code, out, _ = send(worked_example(), ["solve", "-", "--format", "json", "--set", "constraints[0].min=0.9"],
                        monkeypatch, capsys)
    assert code == EXIT_INFEASIBLE and json.loads(out)["status"] == "infeasible"


def embedding_sh_lines() -> list[str]:
    """The lines of docs/embedding.md's ```sh blocks, continued lines joined."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", (ROOT / "docs" / "embedding.md").read_text(), flags=re.S):
        lines += block.replace("\\\n", " ").splitlines()
    return lines


def embedding_commands() -> list[tuple[str, list[str], int | None, str | None]]:
    """docs/embedding.md's ``tradeoff`` lines reading ``< three.json``: ``(line, args, exit code, output)``, the
    exit code from the line's ``# exit N`` or the next line's ``echo $?  # N``, the output from ``one line: TEXT``."""
    lines = embedding_sh_lines()
    found = []
    for k, line in enumerate(lines):
        command, _, comment = line.partition("#")
        if not command.startswith("tradeoff ") or "< three.json" not in command:
            continue
        words = shlex.split(command.split("|")[0])
        args = words[1:words.index("<")]
        after = lines[k + 1] if k + 1 < len(lines) else ""
        said = re.search(r"exit (\d+)", comment) or (re.search(r"#\s*(\d+)\s*$", after)
                                                     if after.startswith("echo $?") else None)
        output = re.search(r"one line: (.*?)(?:\.\.\.)?$", comment.strip())
        found.append((line, args, int(said.group(1)) if said else None,
                      output.group(1).strip() if output else None))
    return found


def test_the_embedding_guide_commands_do_what_their_comments_say(tmp_path, monkeypatch, capsys):
    """Every ``tradeoff ... < three.json`` line of docs/embedding.md, run from the folder of its three.json:
    the exit code its comment gives (0 where none is given), and the line of output it quotes."""
    commands = embedding_commands()
    assert len(commands) >= 5 and any(code == EXIT_INFEASIBLE for _, _, code, _ in commands)
    (tmp_path / "three.json").write_text(worked_example(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    saved = {}
    for line, args, code, output in commands:
        got, out, err = send(worked_example(), args, monkeypatch, capsys)
        assert got == (EXIT_OK if code is None else code), (line, err)
        assert output is None or out.startswith(output), (line, out)
        if "--format" in args:
            assert json.loads(out)["schema_version"] == "1", line
        if redirect := re.search(r"> (\S+\.json)", line.partition("#")[0]):
            saved[redirect.group(1)] = json.loads(out)
    for file, quoted in jq_outputs().items():
        texts = [value for value in json_values(saved[file]) if isinstance(value, str)]
        assert quoted and all(text in texts for text in quoted), (file, quoted)


def jq_outputs() -> dict[str, list[str]]:
    """The output docs/embedding.md shows for a ``jq -r ... FILE`` line: the comment lines right after it."""
    lines, shown = embedding_sh_lines(), {}
    for k, line in enumerate(lines):
        if line.startswith("jq ") and (file := line.split()[-1]).endswith(".json"):
            quoted = [following.lstrip("# ").strip() for following in itertools.takewhile(
                lambda text: text.startswith("# "), lines[k + 1:])]
            if quoted:
                shown[file] = quoted
    return shown


def json_values(document: Any) -> list[Any]:
    """Every value in ``document``, at any depth."""
    if isinstance(document, dict):
        return [value for item in document.values() for value in json_values(item)]
    if isinstance(document, list):
        return [value for item in document for value in json_values(item)]
    return [document]


def test_a_real_pipe(tmp_path):
    """The command as another program runs it: JSON in on stdin, a plan out on stdout, nothing on stderr."""
    done = subprocess.run([sys.executable, "-m", "optimizer", "solve", "-", "--format", "json"], cwd=tmp_path,
                          input=worked_example().encode("utf-8"), capture_output=True, timeout=60)
    assert done.returncode == EXIT_OK and done.stderr == b""
    assert json.loads(done.stdout)["status"] == "optimal"


BAD_INPUT = {
    "empty": (b"", "", "the input is empty"),
    "blank": (b"  \n", "", "the input is empty"),
    "TOML": ((SCENARIOS / "b2b_saas.toml").read_bytes(), "", "this is TOML"),
    "a syntax error": (b'{"name": "x",\n "campaigns": [}', "line 2, column 16", "invalid JSON"),
    "a list": (b"[1, 2]", "line 1, column 1", "must be a table"),
    "not UTF-8": (b'{"name": "caf\xe9"}', "line 1", "not UTF-8"),
    "broken UTF-16": (codecs.BOM_UTF16_LE + b'{\x00\x00\xd8', "line 1", "not UTF-16"),
    "UTF-16 without a byte order mark": ('{"name": "x", "campaigns": []}'.encode("utf-16-le"), "line 1",
                                         "UTF-16 text without a byte order mark"),
    "short UTF-16 without a mark": ("{}".encode("utf-16-be"), "line 1", "UTF-16 text without a byte order mark"),
    "an unknown key": (b'{"name": "x", "budjet": {}, "campaigns": []}', "budjet", 'did you mean "budget"'),
}


@pytest.mark.parametrize(("data", "place", "message"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_on_stdin_exits_2_naming_stdin(data, place, message, monkeypatch, capsys):
    code, out, err = send(data, ["solve", "-", "--format", "json"], monkeypatch, capsys)
    assert code == EXIT_INPUT and out == ""
    assert err.startswith("error: <stdin>: ") and f"  - {place}" in err and message in err
    assert "Traceback" not in err


def test_toml_and_empty_input_say_to_send_json(monkeypatch, capsys):
    for data in (b"", (SCENARIOS / "b2b_saas.toml").read_bytes()):
        _, _, err = send(data, ["frontier", "-"], monkeypatch, capsys)
        assert "JSON" in err.split("fix:", 1)[1]


# --- the library entry point ----------------------------------------------------------------


def test_scenario_from_json_reads_text_and_bytes_as_the_file_reads():
    path = SCENARIOS / "local_services.toml"
    text = json_form(path)
    expected = optimizer.load_scenario(path)
    assert optimizer.scenario_from_json(text, folder=SCENARIOS) == expected
    assert optimizer.scenario_from_json(codecs.BOM_UTF8 + text.encode("utf-8"), folder=SCENARIOS) == expected
    assert optimizer.scenario_from_json(text.encode("utf-16"), folder=SCENARIOS) == expected


def test_scenario_from_json_names_its_source():
    with pytest.raises(optimizer.ScenarioError) as raised:
        optimizer.scenario_from_json('{"name": 1}', source="request 42")
    assert raised.value.source == "request 42" and str(raised.value).startswith("request 42: ")
