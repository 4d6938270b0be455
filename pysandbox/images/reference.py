"""Image references as Docker spells them: [REGISTRY/]PATH[:TAG][@DIGEST]."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pysandbox.types import UserError

DEFAULT_REGISTRY = "docker.io"
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_HOST = re.compile(r"^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$")


@dataclass(frozen=True)
class Reference:
    registry: str
    repository: str  # "library/busybox"
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """Full name with tag, e.g. docker.io/library/busybox:latest (the canonical key in the store)."""
        return self._qualified(f"{self.registry}/{self.repository}")

    @property
    def familiar(self) -> str:
        """What `docker images` would show: busybox:latest, 127.0.0.1:5000/x:1."""
        if self.registry == DEFAULT_REGISTRY:
            return self._qualified(self.repository.removeprefix("library/"))
        return self._qualified(f"{self.registry}/{self.repository}")

    def _qualified(self, base: str) -> str:
        """`base` with this reference's :TAG and @DIGEST, when it has them."""
        if self.tag:
            base += f":{self.tag}"
        if self.digest:
            base += f"@{self.digest}"
        return base

    @property
    def familiar_repo(self) -> str:
        return self.familiar.split("@")[0].rsplit(":", 1)[0] if self.tag else self.familiar.split("@")[0]

    @property
    def api_registry(self) -> str:
        return "registry-1.docker.io" if self.registry == DEFAULT_REGISTRY else self.registry

    @property
    def is_loopback(self) -> bool:
        host = self.registry.rsplit(":", 1)[0] if not self.registry.endswith("]") else self.registry
        host = host.strip("[]")
        return host in ("localhost", "::1") or host.startswith("127.")


def parse_reference(text: str, default_tag: str | None = "latest") -> Reference:
    """Parse a reference; refuses anything malformed with a UserError (exit 2)."""
    raw = text.strip()
    bad = UserError(f"invalid image reference {text!r}: use [REGISTRY/]NAME[:TAG][@sha256:DIGEST]")
    if not raw or any(c.isspace() for c in raw):
        raise bad
    digest = None
    if "@" in raw:
        raw, digest = raw.split("@", 1)
        if not _DIGEST.match(digest):
            raise bad
    first, _, rest = raw.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        registry, path = first, rest
        if not _HOST.match(registry):
            raise bad
    else:
        registry, path = DEFAULT_REGISTRY, raw
    tag = None
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = path.rsplit(":", 1)
        if not _TAG.match(tag):
            raise bad
    if not path or not all(_PATH_COMPONENT.match(c) for c in path.split("/")):
        raise bad
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    if tag is None and digest is None:
        tag = default_tag
    return Reference(registry, path, tag, digest)
