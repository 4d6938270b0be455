"""`pysandbox audit config` end to end, as CI runs it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

from pysandbox.policies.loader import BUILTIN_DIR

from .cfg_helpers import DATA

REPO = Path(__file__).resolve().parents[3]


def run(psb: list[str], *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*psb, "audit", "config", *args], capture_output=True, text=True, cwd=cwd, timeout=60
    )


def test_table_lists_findings_with_file_and_line(psb: list[str]) -> None:
    out = run(psb, str(DATA / "compose-monitoring.yml"))
    assert out.returncode == 0, out.stderr
    assert (
        f"{DATA / 'compose-monitoring.yml'}:10  PSB-A018  CRITICAL  Sensitive host path mounted" in out.stdout
    )
    assert "34 findings (5 critical" in out.stdout


def test_json_report_schema(psb: list[str]) -> None:
    out = run(
        psb, "--format", "json", str(DATA / "k8s-docker-cronjob.yaml"), str(DATA / "docker-inspect.json")
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["tool"] == "pysandbox audit config" and set(doc["summary"]) == {
        "critical",
        "high",
        "medium",
        "low",
        "info",
    }
    sock = next(f for f in doc["findings"] if f["rule_id"] == "PSB-A018" and "CronJob" in f["message"])
    assert sock["location"] == {"path": str(DATA / "k8s-docker-cronjob.yaml"), "line": 42}
    assert sock["severity"] == "critical" and sock["source"] == "pysandbox" and sock["fix"]
    assert "CKV_K8S_27" in sock["aliases"] and sock["extra"]["workload"] == "CronJob/image-prune"
    assert {f["location"]["path"] for f in doc["findings"]} == {
        str(DATA / "k8s-docker-cronjob.yaml"),
        str(DATA / "docker-inspect.json"),
    }


def test_sarif_is_valid_2_1_0(psb: list[str], tmp_path: Path) -> None:
    out = run(psb, "--format", "sarif", "tests/audit/config/data/compose-risky.yml")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["version"] == "2.1.0"
    run0 = doc["runs"][0]
    rules = {r["id"]: r for r in run0["tool"]["driver"]["rules"]}
    assert "PSS-baseline:Capabilities" in rules["PSB-A002"]["properties"]["tags"]
    result = next(r for r in run0["results"] if r["ruleId"] == "PSB-A014")
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "tests/audit/config/data/compose-risky.yml"
    assert location["region"]["startLine"] == 23
    schema = {
        "type": "object",
        "required": ["version", "runs"],
        "properties": {
            "runs": {"type": "array", "items": {"type": "object", "required": ["tool", "results"]}}
        },
    }
    jsonschema.validate(doc, schema)


def test_fail_on_threshold(psb: list[str]) -> None:
    strict = str(BUILTIN_DIR / "strict.yaml")
    assert run(psb, "--fail-on", "info", strict).returncode == 0
    hardened = str(DATA / "compose-hardened.yml")
    assert run(psb, "--fail-on", "low", hardened).returncode == 0
    assert run(psb, "--fail-on", "info", hardened).returncode == 1
    assert run(psb, "--fail-on", "critical", str(DATA / "compose-monitoring.yml")).returncode == 1


@pytest.mark.parametrize(
    "manifest",
    [
        "apiVersion: v1\nkind: List\n"
        "items: [{kind: Pod, spec: {containers: [{name: a, securityContext: {privileged: true}}]}}]\n",
        "apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: d}\n"
        "spec: {template: {spec: {containers: [{name: a, securityContext: {privileged: true}}]}}}\n",
        "apiVersion: v1\nkind: pod\nmetadata: {name: p}\n"
        "spec: {containers: [{name: a, securityContext: {privileged: true}}]}\n",
    ],
)
def test_gate_audits_list_items_and_unknown_kinds(psb: list[str], tmp_path: Path, manifest: str) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text(manifest)
    out = run(psb, "--fail-on", "high", str(path))
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert "PSB-A001  CRITICAL  Privileged container" in out.stdout


def test_standard_prints_verdicts_and_fails_non_compliant(psb: list[str]) -> None:
    ok = run(psb, "--standard", "restricted", str(DATA / "k8s-restricted.yaml"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "PSS restricted:" in ok.stdout and "Deployment/web: compliant" in ok.stdout
    bad = run(
        psb, "--standard", "baseline", str(DATA / "k8s-node-exporter.yaml"), str(DATA / "k8s-restricted.yaml")
    )
    assert bad.returncode == 1
    assert "DaemonSet/node-exporter: NOT compliant, fails baseline:HostNamespaces" in bad.stdout
    as_json = run(psb, "--standard", "baseline", "--format", "json", str(DATA / "k8s-node-exporter.yaml"))
    (verdict,) = json.loads(as_json.stdout)["compliance"]
    assert verdict["workload"] == "DaemonSet/node-exporter" and verdict["compliant"] is False
    assert verdict["standard"] == "pss-baseline" and "baseline:HostPorts" in verdict["failed_controls"]


def test_output_file_is_written_whole(psb: list[str], tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    out = run(psb, "--format", "json", "--output", str(target), str(DATA / "compose-hardened.yml"))
    assert out.returncode == 0 and out.stdout == ""
    assert json.loads(target.read_text())["summary"]["info"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--format", "xml", "x"], "unknown format 'xml'"),
        (["--standard", "privileged", "x"], "unknown standard 'privileged'"),
        (["--fail-on", "severe", "x"], "unknown severity 'severe'"),
        ([], "no file given"),
        (["tests/audit/config/cfg_helpers.py"], "not valid YAML"),
        (["tests/audit/config/test_cfg_cli.py"], "expected a docker-compose file, Kubernetes manifest"),
        (["nope.yaml"], "cannot read config file nope.yaml: No such file or directory: pass a docker-"),
    ],
)
def test_usage_and_input_errors_exit_2_with_one_line(psb: list[str], args: list[str], expected: str) -> None:
    out = run(psb, *args)
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.startswith("pysandbox: error: ") and expected in out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_one_bad_file_fails_the_run_and_writes_nothing(psb: list[str], tmp_path: Path) -> None:
    bad = tmp_path / "compose.yml"
    bad.write_text("services:\n  web:\n    image: nginx\n    cap_add: SYS_ADMIN\n")
    target = tmp_path / "out.json"
    out = run(psb, "--output", str(target), str(DATA / "compose-hardened.yml"), str(bad))
    assert out.returncode == 2
    assert f"{bad}: line 4: `cap_add` must be a list: expected a valid docker-compose file" in out.stderr
    assert not target.exists()


def test_list_rules(psb: list[str]) -> None:
    out = subprocess.run([*psb, "audit", "config", "--list-rules"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0
    assert "PSB-A001  critical  Privileged container" in out.stdout
    assert "aliases: PSS-baseline:HostNamespaces" in out.stdout


def test_list_rules_as_json_and_bad_formats(psb: list[str]) -> None:
    def list_rules(fmt: str) -> subprocess.CompletedProcess[str]:
        argv = [*psb, "audit", "config", "--list-rules", "-f", fmt]
        return subprocess.run(argv, capture_output=True, text=True)

    out = list_rules("json")
    assert out.returncode == 0, out.stderr
    a001 = {r["id"]: r for r in json.loads(out.stdout)["rules"]}["PSB-A001"]
    assert (a001["severity"], a001["title"]) == ("critical", "Privileged container")
    for fmt, expected in (("sarif", "prints a table or JSON"), ("bogus", "unknown format 'bogus'")):
        out = list_rules(fmt)
        assert out.returncode == 2 and expected in out.stderr and "Traceback" not in out.stderr
