"""PSB-I012: private keys (PEM, OpenSSH, PGP) in any layer."""

from __future__ import annotations

import re

from pysandbox.scanner.image.fsview import FileRecord
from pysandbox.scanner.image.rules.base import SECRET, Rule, ScanContext
from pysandbox.scanner.image.rules.ssh_host_keys import is_host_key
from pysandbox.scanner.image.secrets import is_binary, scannable
from pysandbox.types import Severity

_KEY = re.compile(rb"-----BEGIN ((?:RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----")


class _Consumer:
    def __init__(self, rule: PrivateKey, ctx: ScanContext) -> None:
        self.rule, self.ctx = rule, ctx

    def wants(self, path: str, size: int) -> bool:
        return scannable(path, size) and not is_host_key(path)

    def consume(self, record: FileRecord, data: bytes) -> None:
        if b"PRIVATE KEY" not in data or is_binary(data):
            return
        for m in _KEY.finditer(data):
            line = data.count(b"\n", 0, m.start()) + 1
            kind = m.group(1).decode()
            encrypted = kind.startswith("ENCRYPTED") or b"ENCRYPTED" in data[m.end() : m.end() + 200]
            text = f"{record.path} contains a {'passphrase-protected ' if encrypted else ''}{kind}."
            severity = Severity.MEDIUM if encrypted else self.rule.severity
            self.rule.file_finding(self.ctx, record, text, line=line, severity=severity)


class PrivateKey(Rule):
    id = "PSB-I012"
    severity = Severity.HIGH
    title = "Private key in image"
    fix = (
        "Do not copy keys into images: mount them at run time (secrets, volumes) and rotate the exposed key."
    )
    scanner = SECRET
    aliases = ("CIS-DI-0010", "private-key")

    def consumer(self, ctx: ScanContext) -> _Consumer:
        return _Consumer(self, ctx)


RULE = PrivateKey()
