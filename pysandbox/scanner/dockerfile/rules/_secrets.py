"""Secret detection shared by the secret rules (not a rule module)."""

from __future__ import annotations

import re
from itertools import pairwise

# name tokens that say the value is a secret; `KEY` alone is not (GPG_KEY is a public fingerprint)
SECRET_TOKENS = frozenset({"password", "passwd", "passphrase", "pwd", "secret", "secrets", "token",
                           "apikey", "credential", "credentials", "privatekey"})  # fmt: skip
SECRET_PAIRS = frozenset({("api", "key"), ("private", "key"), ("secret", "key"), ("access", "key"),
                          ("client", "key"), ("auth", "token"), ("session", "key"), ("signing", "key"),
                          ("encryption", "key"), ("master", "key")})  # fmt: skip
# names that point at a secret (a file, a length, a user name) rather than hold one
REFERENCE_SUFFIXES = frozenset({"file", "path", "dir", "url", "uri", "host", "port", "user", "username",
                                "name", "length", "len", "id", "type", "endpoint", "env", "enabled",
                                "required", "mode", "policy", "header", "version"})  # fmt: skip
_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")

VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Slack webhook", re.compile(r"https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/\w+")),
    ("a Stripe key", re.compile(r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{20,}\b")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("a JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
    ("a password in a URL", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@$]+:(?!\$)[^/\s@]{3,}@[^\s/]")),
)


def name_tokens(name: str) -> list[str]:
    return [t.lower() for t in _SPLIT.split(name) if t]


def is_secret_name(name: str) -> bool:
    """`DB_PASSWORD`, `apiKey`, `AWS_SECRET_ACCESS_KEY`, `GITHUB_TOKEN`; not `PASSWORD_FILE`, `GPG_KEY`."""
    tokens = name_tokens(name)
    if not tokens or tokens[-1] in REFERENCE_SUFFIXES:
        return False
    if any(t in SECRET_TOKENS for t in tokens):
        return True
    return any(pair in SECRET_PAIRS for pair in pairwise(tokens))


def secret_in_value(value: str) -> str | None:
    """What kind of secret `value` contains (by its shape), or None."""
    for kind, pattern in VALUE_PATTERNS:
        if pattern.search(value):
            return kind
    return None
