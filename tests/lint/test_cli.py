"""`pysandbox lint` end to end: discovery, stdin, exit codes, config files, errors."""

from __future__ import annotations

import json
from pathlib import Path

BAD = "FROM debian\nRUN apt-get install curl\n"
CLEAN = "FROM debian:12.5@sha256:" + "a" * 64 + '\nUSER 10001\nHEALTHCHECK NONE\nCMD ["true"]\n'


def test_exit_codes_follow_the_threshold(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text(BAD)
    assert lint_cli("Dockerfile").returncode == 1  # default: any finding fails, like hadolint
    assert lint_cli("Dockerfile", "--failure-threshold", "critical").returncode == 0
    assert lint_cli("Dockerfile", "--fail-on", "medium").returncode == 1
    assert lint_cli("Dockerfile", "--failure-threshold", "none").returncode == 0
    (tmp_path / "clean.Dockerfile").write_text(CLEAN)
    result = lint_cli("clean.Dockerfile")
    assert result.returncode == 0, result.stdout


def test_directory_discovery(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    for name in ("Dockerfile", "api.Dockerfile", "Dockerfile.dev", "Containerfile", "sub/Dockerfile"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(BAD)
    (tmp_path / "README.md").write_text("FROM nothing\n")
    doc = json.loads(lint_cli(".", "-f", "json", "-t", "none").stdout)
    paths = {Path(f["location"]["path"]).as_posix() for f in doc["findings"]}
    assert paths == {"Dockerfile", "api.Dockerfile", "Dockerfile.dev", "Containerfile", "sub/Dockerfile"}
    assert doc["files"] == 5


def test_stdin(lint_cli) -> None:  # type: ignore[no-untyped-def]
    result = lint_cli("-", "--format", "json", stdin=BAD)
    doc = json.loads(result.stdout)
    assert result.returncode == 1
    assert {f["location"]["path"] for f in doc["findings"]} == {"-"}
    assert doc["summary"]["medium"] >= 1


def test_ignore_by_alias_and_json_schema(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text(BAD)
    doc = json.loads(lint_cli("Dockerfile", "-f", "json", "--ignore", "DL3008", "--ignore", "PSB3006").stdout)
    assert set(doc) >= {"tool", "version", "target", "findings", "summary"}
    rule_ids = {f["rule_id"] for f in doc["findings"]}
    assert "PSB3008" not in rule_ids and "PSB3006" not in rule_ids and "PSB3014" in rule_ids
    finding = doc["findings"][0]
    assert set(finding) >= {"rule_id", "severity", "title", "message", "location", "fix", "source", "aliases"}


def test_hadolint_config_in_cwd_is_used(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text(BAD)
    (tmp_path / ".hadolint.yaml").write_text("failure-threshold: error\nignored: [DL3008]\n")
    result = lint_cli("Dockerfile", "-f", "json")
    findings = json.loads(result.stdout)["findings"]
    assert "PSB3008" not in {f["rule_id"] for f in findings}
    assert any(f["severity"] == "medium" for f in findings)  # below the threshold: reported, not failing
    severe = [f for f in findings if f["severity"] in ("high", "critical")]
    assert result.returncode == (1 if severe else 0)


def test_explicit_config_and_trusted_registry(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text("FROM quay.io/org/app:1.0\n")
    cfg = tmp_path / "lint.yaml"
    cfg.write_text("trustedRegistries: [docker.io]\n")
    doc = json.loads(lint_cli("Dockerfile", "-f", "json", "--config", str(cfg)).stdout)
    assert "PSB3026" in {f["rule_id"] for f in doc["findings"]}
    doc = json.loads(lint_cli("Dockerfile", "-f", "json", "--trusted-registry", "docker.io").stdout)
    assert "PSB3026" in {f["rule_id"] for f in doc["findings"]}


def test_malformed_dockerfile_is_a_finding_with_a_line(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nRUN true\nENV ONLYKEY\n")
    result = lint_cli("Dockerfile", "-f", "json")
    assert result.returncode == 1
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["rule_id"] == "PSB0000" and finding["location"]["line"] == 3
    assert "Traceback" not in result.stderr


def test_binary_file_does_not_crash(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_bytes(b"\x00\xff\xfeFROM\x00 \x89PNG\r\n")
    result = lint_cli("Dockerfile", "-f", "json")
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1)
    assert json.loads(result.stdout)["findings"][0]["rule_id"] == "PSB0000"


def test_usage_errors_exit_2_with_one_line(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text(BAD)
    (tmp_path / "bad.yaml").write_text("ignored: [\n")
    (tmp_path / "empty").mkdir()
    cases = [
        ("missing",),
        ("Dockerfile", "--format", "xml"),
        ("Dockerfile", "--failure-threshold", "loud"),
        ("Dockerfile", "--config", "bad.yaml"),
        ("Dockerfile", "--config", "nope.yaml"),
        ("empty",),
    ]
    for args in cases:
        result = lint_cli(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("pysandbox: error: "), (args, result.stderr)


def test_output_file_and_list_rules(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text(BAD)
    result = lint_cli("Dockerfile", "-f", "json", "-o", "report.json")
    assert result.returncode == 1
    assert json.loads((tmp_path / "report.json").read_text())["findings"]
    listing = lint_cli("--list-rules").stdout
    assert "PSB3008" in listing and "DL3008" in listing
