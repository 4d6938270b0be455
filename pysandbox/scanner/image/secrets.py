"""Secret patterns shared by the file scanner and the config checks (Env, Labels, history).

Pattern ids follow trivy's built-in secret rule ids so that trivy findings de-duplicate against
ours and users can look both up. A pattern only runs when one of its keywords occurs in the data,
which keeps the scan of a large image close to one `bytes.find` per keyword per file.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from pysandbox.types import Severity


@dataclass(frozen=True)
class SecretPattern:
    id: str
    title: str
    severity: Severity
    keywords: tuple[bytes, ...]  # lower-case literals; the regex runs only if one occurs
    regex: re.Pattern[bytes]
    group: int = 0  # the group holding the secret itself
    min_entropy: float = 0.0


@dataclass(frozen=True)
class SecretMatch:
    pattern: SecretPattern
    line: int
    secret: str  # redacted
    start: int


def _p(
    pid: str,
    title: str,
    severity: Severity,
    keywords: tuple[str, ...],
    regex: str,
    group: int = 0,
    min_entropy: float = 0.0,
) -> SecretPattern:
    return SecretPattern(
        pid,
        title,
        severity,
        tuple(k.encode() for k in keywords),
        re.compile(regex.encode()),
        group,
        min_entropy,
    )


_NAME = r"[A-Za-z0-9_.\-]*"
GENERIC_KEYWORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "api-key",
    "access_key",
    "private_key",
    "credential",
)

PATTERNS: tuple[SecretPattern, ...] = (
    _p(
        "aws-access-key-id",
        "AWS access key ID",
        Severity.CRITICAL,
        ("akia", "asia", "abia", "acca", "a3t"),
        r"(?<![A-Z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Z0-9])",
    ),
    _p(
        "aws-secret-access-key",
        "AWS secret access key",
        Severity.CRITICAL,
        ("aws",),
        r"(?i)aws_?(?:secret)?_?(?:access)?_?key\"?'?\s*(?::|=>|=)\s*\"?'?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
        group=1,
        min_entropy=3.5,
    ),
    _p(
        "gcp-service-account",
        "GCP service account key",
        Severity.CRITICAL,
        ("service_account",),
        r"\"type\"\s*:\s*\"service_account\"",
    ),
    _p("gcp-api-key", "GCP API key", Severity.HIGH, ("aiza",), r"AIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])"),
    _p(
        "github-pat",
        "GitHub token",
        Severity.CRITICAL,
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        r"(?<![A-Za-z0-9])gh[pousr]_[0-9A-Za-z]{36}(?![0-9A-Za-z])",
    ),
    _p(
        "github-fine-grained-pat",
        "GitHub fine-grained token",
        Severity.CRITICAL,
        ("github_pat_",),
        r"github_pat_[0-9A-Za-z_]{82}",
    ),
    _p(
        "slack-access-token",
        "Slack token",
        Severity.HIGH,
        ("xox",),
        r"(?<![A-Za-z0-9])xox[baprs]-[0-9A-Za-z]{8,}-[0-9A-Za-z\-]{8,}",
    ),
    _p(
        "slack-web-hook",
        "Slack webhook URL",
        Severity.MEDIUM,
        ("hooks.slack.com",),
        r"https://hooks\.slack\.com/services/[A-Za-z0-9+/]{8,}/[A-Za-z0-9+/]{8,}/[A-Za-z0-9+/]{16,}",
    ),
    _p(
        "stripe-secret-token",
        "Stripe secret key",
        Severity.CRITICAL,
        ("sk_live_", "rk_live_"),
        r"(?<![A-Za-z0-9])[sr]k_live_[0-9A-Za-z]{20,99}",
    ),
    _p(
        "stripe-test-token",
        "Stripe test key",
        Severity.LOW,
        ("sk_test_",),
        r"(?<![A-Za-z0-9])sk_test_[0-9A-Za-z]{20,99}",
    ),
    _p(
        "jwt-token",
        "JSON Web Token",
        Severity.MEDIUM,
        ("eyj",),
        r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
    ),
    _p(
        "generic-secret-assignment",
        "High-entropy secret assignment",
        Severity.MEDIUM,
        GENERIC_KEYWORDS,
        r"(?i)(?<![A-Za-z0-9])" + _NAME + r"(?:password|passwd|secret|token|api[_\-]?key|access[_\-]?key"
        r"|private[_\-]?key|credentials?)" + _NAME + r"[\"']?[ \t]*(?::=|=>|=|:)[ \t]*[\"']?"
        r"([^\s\"'`;,<>(){}\[\]$]{12,200})",
        group=1,
        min_entropy=3.5,
    ),
)

_PLACEHOLDER = re.compile(rb"(?i)example|changeme|placeholder|dummy|x{6,}|your[_\-]|<|\$\{|%\(|\{\{")


def entropy(data: bytes) -> float:
    if not data:
        return 0.0
    counts = Counter(data)
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def redact(secret: bytes) -> str:
    text = secret.decode("utf-8", "replace")
    return text[:4] + "*" * min(max(len(text) - 4, 4), 16)


def find_secrets(data: bytes, patterns: tuple[SecretPattern, ...] = PATTERNS) -> list[SecretMatch]:
    """Every secret in `data`, one match per (pattern, line); secrets are returned redacted."""
    lowered = data.lower()
    found: list[SecretMatch] = []
    seen: set[tuple[int, int]] = set()
    for pattern in patterns:
        if not any(k in lowered for k in pattern.keywords):
            continue
        for m in pattern.regex.finditer(data):
            secret = m.group(pattern.group)
            if pattern.min_entropy and (entropy(secret) < pattern.min_entropy or _PLACEHOLDER.search(secret)):
                continue
            line = data.count(b"\n", 0, m.start()) + 1
            # A specific pattern already explains this line: the generic one adds nothing.
            if pattern.id == "generic-secret-assignment" and any(s[0] == line for s in seen):
                continue
            if (line, id(pattern)) in seen:
                continue
            seen.add((line, id(pattern)))
            found.append(SecretMatch(pattern, line, redact(secret), m.start()))
    return found


SECRET_NAME = re.compile(
    r"(?i)(?:^|[_\-.])(?:password|passwd|pwd|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key"
    r"|credentials?|auth)(?:$|[_\-.])|^(?:password|secret|token)"
)
_NOT_SECRET_NAME = re.compile(r"(?i)(?:_file|_path|_dir|_url|_name|_user(?:name)?|_length|_header)$")


def secret_assignment(name: str, value: str) -> bool:
    """Does NAME=VALUE (an Env entry, a label, a build arg) look like a secret being baked in?"""
    if not value or not SECRET_NAME.search(name) or _NOT_SECRET_NAME.search(name):
        return False
    if value.startswith(("/", "$", "{{")) or _PLACEHOLDER.search(value.encode()):
        return False
    return value.lower() not in {"true", "false", "yes", "no", "none", "null", "0", "1"}


# Paths whose contents are distribution data, not configuration (the same skips trivy's built-in
# allow rules make): scanning them costs time and yields test fixtures and documentation.
_SKIP_PREFIXES = (
    "/usr/share/",
    "/usr/include/",
    "/usr/lib/",
    "/usr/local/go/",
    "/usr/lib/gems/",
    "/usr/src/wordpress/",
    "/var/log/anaconda/",
    "/proc/",
    "/sys/",
)
_SKIP_PATTERN = re.compile(r"/locales?/|\.md$|^/usr/local/lib/python[\d.]+/|^/opt/yarn-v[\d.]+/")
MAX_SCAN_SIZE = 10 * 1024 * 1024
BINARY_PROBE = 8192


def scannable(path: str, size: int) -> bool:
    """Is this file worth reading for secrets (not too big, not distribution data)?"""
    if size == 0 or size > MAX_SCAN_SIZE or path.startswith(_SKIP_PREFIXES):
        return False
    return _SKIP_PATTERN.search(path) is None


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_PROBE]


def a_or_an(title: str) -> str:
    return f"{'an' if title[:1].upper() in 'AEIOU' else 'a'} {title}"
