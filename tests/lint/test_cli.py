"""`pysandbox lint` end to end: discovery, stdin, exit codes, config files, errors."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

from psbcli import PSB

from .conftest import ROOT

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


def test_usage_errors_exit_2_with_one_line(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text(BAD)
    (tmp_path / "bad.yaml").write_text("ignored: [\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / "schema.yaml").write_text("label-schema:\n  maintainer: phone\n")
    (tmp_path / "binary.Dockerfile").write_bytes(b"\x00\xff\xfeFROM\x00 \x89PNG\r\n")
    (tmp_path / "utf16.Dockerfile").write_bytes("FROM debian:12\n".encode("utf-16"))
    os.mkfifo(tmp_path / "fifo")
    cases = [
        ("missing",),
        ("Dockerfile", "--format", "xml"),
        ("Dockerfile", "--failure-threshold", "loud"),
        ("Dockerfile", "--config", "bad.yaml"),
        ("Dockerfile", "--config", "nope.yaml"),
        ("Dockerfile", "--config", "empty"),
        ("Dockerfile", "--config", "schema.yaml"),
        ("Dockerfile", "--config", "fifo"),
        ("Dockerfile", "--config", "/dev/zero"),
        ("empty",),
        ("binary.Dockerfile",),
        ("utf16.Dockerfile",),
        ("fifo",),
        ("Dockerfile", "-", "-"),
        ("Dockerfile", "--require-label", "maintainer"),
        ("Dockerfile", "--require-label", "maintainer:phone"),
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


def test_binary_stdin_is_a_usage_error(lint_cli) -> None:  # type: ignore[no-untyped-def]
    result = lint_cli("-", stdin="FROM\x00debian\n")
    assert result.returncode == 2 and result.stderr.startswith("pysandbox: error: stdin is a binary")
    assert result.stdout == ""


def test_unreadable_file_and_directory(test_user: Any, world_tmp: Path) -> None:
    """As an unprivileged user (root reads everything): mode 000 file, directory it cannot list."""
    base = world_tmp / "lint-unreadable"
    base.mkdir()
    try:
        (base / "Dockerfile").write_text(BAD)
        (base / "Dockerfile").chmod(0)
        (base / "locked").mkdir()
        (base / "locked" / "Dockerfile").write_text(BAD)
        (base / "locked").chmod(stat.S_IRWXU)  # root's only
        for target, problem in [
            (base / "Dockerfile", "cannot read"),
            (base / "locked", "cannot read directory"),
        ]:
            result = test_user.pysandbox("lint", str(target))
            assert result.returncode == 2, (target, result.stdout, result.stderr)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(f"pysandbox: error: {problem}"), result.stderr
            assert "Permission denied" in lines[0]
    finally:
        (base / "locked").chmod(stat.S_IRWXU)
        (base / "Dockerfile").chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_require_label_and_strict_labels_flags(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text('FROM debian:12\nLABEL maintainer="me" extra=1\n')
    args = ("Dockerfile", "-f", "json", "-t", "none", "--require-label", "maintainer:email")
    found = {(f["rule_id"], f["location"]["line"]) for f in json.loads(lint_cli(*args).stdout)["findings"]}
    assert ("PSB3058", 2) in found and ("PSB3050", 2) not in found
    strict = json.loads(lint_cli(*args, "--require-label", "version:semver", "--strict-labels").stdout)
    found = {(f["rule_id"], f["location"]["line"]) for f in strict["findings"]}
    assert {("PSB3058", 2), ("PSB3050", 2), ("PSB3049", 1)} <= found


def _lint_bytes(cwd: Path, *args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    """`pysandbox lint` with raw bytes on stdin (lint_cli takes text)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [*PSB, "lint", *args], input=stdin, capture_output=True, cwd=cwd, env=env, check=False
    )


def test_binary_without_nul_is_refused_on_stdin_and_as_a_file(tmp_path: Path) -> None:
    # Undecodable bytes and control characters but no NUL: once linted as a garbage "Dockerfile".
    junk = bytes(range(1, 32)) + bytes(range(0x80, 0x100)) * 4 + b"\n"
    (tmp_path / "junk.Dockerfile").write_bytes(junk)
    for args, shown in ((("-",), "stdin"), (("junk.Dockerfile",), "junk.Dockerfile")):
        result = _lint_bytes(tmp_path, *args, stdin=junk)
        assert result.returncode == 2 and result.stdout == b"", result.stdout
        assert result.stderr.decode() == (
            f"pysandbox: error: {shown} is a binary (or UTF-16) file, not a Dockerfile: "
            "give a UTF-8 text file\n"
        )
    # ... while a stray Latin-1 comment in a text Dockerfile is still linted
    text = "# Paquets installés pour l'équipe réseau\n".encode("latin-1") + CLEAN.encode()
    result = _lint_bytes(tmp_path, "-", stdin=text)
    assert result.returncode == 0, result.stderr


def test_binary_config_is_one_line(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text(BAD)
    (tmp_path / "bin.yaml").write_bytes(b"ignored: [\xfc\xfd\xfe]\n")
    for args in (("--config", "bin.yaml"), ()):
        if not args:  # the same file found on its own, as .hadolint.yaml
            (tmp_path / "bin.yaml").rename(tmp_path / ".hadolint.yaml")
        result = lint_cli("Dockerfile", *args)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("pysandbox: error: config "), result.stderr
        problem = "yaml is not UTF-8 text (invalid byte at offset 10)"  # bin.yaml, then .hadolint.yaml
        assert f"{problem}: give a readable UTF-8 YAML file" in lines[0]


def test_config_key_typo_is_an_error_naming_the_keys(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text(BAD)
    (tmp_path / ".hadolint.yaml").write_text("ignore: [DL3008]\n")
    result = lint_cli("Dockerfile")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("pysandbox: error: ") and len(result.stderr.splitlines()) == 1
    assert "unknown key 'ignore': use ignored, override, trustedRegistries" in result.stderr


def test_hadolint_config_keys_take_effect(tmp_path: Path, lint_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text("FROM debian\n# hadolint ignore=DL3008\nRUN apt-get install curl\n")
    (tmp_path / ".hadolint.yaml").write_text(
        "format: json\nno-fail: true\ndisable-ignore-pragma: true\ntrustedRegistries: docker.io\n"
        "no-color: true\nverbose: false\n"
    )
    result = lint_cli("Dockerfile")
    assert result.returncode == 0, result.stderr  # no-fail
    rule_ids = {f["rule_id"] for f in json.loads(result.stdout)["findings"]}  # format: json
    assert "PSB3008" in rule_ids  # the pragma is not obeyed
    assert lint_cli("Dockerfile", "-f", "table").stdout.startswith("Dockerfile:")  # -f wins


def test_list_rules_formats(lint_cli) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(lint_cli("--list-rules", "-f", "json").stdout)
    [rule] = [r for r in doc["rules"] if r["id"] == "PSB3008"]
    assert rule["severity"] == "medium" and "DL3008" in rule["aliases"] and rule["title"]
    for fmt, message in (
        ("bogus", "unknown format 'bogus'"),
        ("sarif", "--list-rules prints a table or JSON"),
    ):
        result = lint_cli("--list-rules", "-f", fmt)
        assert result.returncode == 2 and result.stdout == ""
        assert (
            result.stderr.startswith(f"pysandbox: error: {message}") and len(result.stderr.splitlines()) == 1
        )
