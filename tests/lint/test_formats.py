"""Report formats of `pysandbox lint`: SARIF against the 2.1.0 schema, checkstyle, gitlab."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
TEXT = "FROM debian\nWORKDIR app\nRUN sudo apt-get install curl\nADD . /app\n"


def _lint(tmp_path: Path, lint_cli, fmt: str) -> str:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text(TEXT)
    result = lint_cli("Dockerfile", "-f", fmt)
    assert result.returncode == 1, result.stderr
    return str(result.stdout)


def test_sarif_validates_and_carries_rule_metadata(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(_lint(tmp_path, lint_cli, "sarif"))
    jsonschema.validate(doc, SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert {"PSB3000", "PSB3004", "PSB3008", "PSB3020"} <= set(rules)
    sudo = rules["PSB3004"]
    assert "DL3004" in sudo["properties"]["tags"]
    assert sudo["help"]["text"] and "sudo" in sudo["fullDescription"]["text"]
    assert sudo["helpUri"].endswith("psb3004_sudo.py")
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1


def test_sarif_of_a_clean_file_validates(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    digest = "a" * 64
    (tmp_path / "Dockerfile").write_text(
        f'FROM debian:12.5@sha256:{digest}\nUSER 10001\nHEALTHCHECK NONE\nCMD ["true"]\n'
    )
    result = lint_cli("Dockerfile", "-f", "sarif")
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["runs"][0]["results"] == []


def test_checkstyle(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    root = ET.fromstring(_lint(tmp_path, lint_cli, "checkstyle"))
    assert root.tag == "checkstyle"
    [file] = root.findall("file")
    assert file.get("name") == "Dockerfile"
    errors = file.findall("error")
    by_source = {e.get("source"): e for e in errors}
    assert by_source["PSB3004"].get("severity") == "error"
    assert by_source["PSB3004"].get("line") == "3"
    assert {e.get("severity") for e in errors} <= {"error", "warning", "info"}


def test_gitlab_code_quality(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    issues = json.loads(_lint(tmp_path, lint_cli, "gitlab"))
    assert issues
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert issue["location"]["path"] == "Dockerfile" and issue["location"]["lines"]["begin"] >= 1


def test_table(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    out = _lint(tmp_path, lint_cli, "table")
    assert "Dockerfile:3  PSB3004  HIGH" in out
    assert "fix:" in out
