"""PSB-I013: credential files of well-known tools (cloud, registries, package indexes, git, kube, .env)."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterable

from pysandbox.scanner.image.fsview import FileRecord
from pysandbox.scanner.image.rules.base import FILES, Rule, ScanContext
from pysandbox.scanner.image.secrets import secret_assignment
from pysandbox.scanner.image.source import Kind
from pysandbox.types import Finding, Severity

MAX_SIZE = 1024 * 1024


def _aws(text: str) -> bool:
    return re.search(r"(?im)^\s*aws_secret_access_key\s*=\s*\S+", text) is not None


def _docker(text: str) -> bool:
    try:
        auths = json.loads(text).get("auths") or {}
    except (ValueError, AttributeError):
        return False
    return isinstance(auths, dict) and any(
        isinstance(v, dict) and (v.get("auth") or v.get("identitytoken")) for v in auths.values()
    )


def _npmrc(text: str) -> bool:
    return re.search(r"(?im)(?:_authToken|_auth|_password)\s*=\s*[^\s$]\S*", text) is not None


def _pypirc(text: str) -> bool:
    return re.search(r"(?im)^\s*password\s*[:=]\s*\S+", text) is not None


def _git_credentials(text: str) -> bool:
    return re.search(r"(?m)^\s*\w+://[^/\s:@]+:[^/\s@]+@", text) is not None


def _netrc(text: str) -> bool:
    return re.search(r"(?:^|\s)password\s+\S+", text) is not None


def _kubeconfig(text: str) -> bool:
    return re.search(r"(?m)^\s*(?:client-key-data|token|password|auth-provider)\s*:\s*\S+", text) is not None


def _dotenv(text: str) -> bool:
    for line in text.splitlines():
        name, sep, value = line.removeprefix("export ").partition("=")
        if sep and secret_assignment(name.strip(), value.strip().strip("\"'")):
            return True
    return False


# (path matcher, what it is, does its content hold a credential?)
KINDS: tuple[tuple[re.Pattern[str], str, Callable[[str], bool]], ...] = (
    (re.compile(r"/\.aws/credentials$"), "AWS credentials", _aws),
    (re.compile(r"/\.docker/config\.json$"), "Docker registry credentials", _docker),
    (re.compile(r"/\.npmrc$"), "npm registry token", _npmrc),
    (re.compile(r"/\.pypirc$"), "PyPI credentials", _pypirc),
    (re.compile(r"/\.git-credentials$"), "git credentials", _git_credentials),
    (re.compile(r"/[._]netrc$"), "netrc credentials", _netrc),
    (re.compile(r"/\.kube/config$|/kubeconfig(?:\.ya?ml)?$"), "Kubernetes credentials", _kubeconfig),
    (re.compile(r"/\.env(?:\.(?!example|sample|template|dist)[\w.-]+)?$"), "dotenv secrets", _dotenv),
)


def credential_kind(path: str) -> tuple[str, Callable[[str], bool]] | None:
    for pattern, what, has_secret in KINDS:
        if pattern.search(path):
            return what, has_secret
    return None


class CredentialsFile(Rule):
    id = "PSB-I013"
    severity = Severity.HIGH
    title = "Credentials file in image"
    fix = (
        "Do not copy credential files into the image: use build secrets (`RUN --mount=type=secret`) "
        "or mount them at run time, add them to .dockerignore, and rotate what was exposed."
    )
    scanner = FILES
    aliases = ("CIS-DI-0010", "DKL-LI-0003")

    def keep(self, path: str, size: int) -> bool:
        return size <= MAX_SIZE and credential_kind(path) is not None

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        for record in ctx.fs.records:
            if record.kind not in (Kind.FILE, Kind.HARDLINK) or record.content is None:
                continue
            found = credential_kind(record.path)
            if found and found[1](record.text()):
                yield self._report(ctx, record, found[0])

    def _report(self, ctx: ScanContext, record: FileRecord, what: str) -> Finding:
        name = posixpath.basename(record.path)
        return self.file_finding(ctx, record, f"{record.path} holds {what} ({name} with a secret value).")


RULE = CredentialsFile()
