"""PSB-A006: ports bound on the host (Kubernetes hostPort, published compose/docker ports)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Port, Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.standards import baseline
from pysandbox.types import Finding, Severity

_ALL_INTERFACES = (None, "", "0.0.0.0", "::", "[::]")


def check(w: Workload) -> Iterator[Finding]:
    for c in w.containers:
        for port in c.ports:
            if port.host_port is None:
                continue
            aliases = [baseline("HostPorts")]
            if w.format == "kubernetes":
                aliases.append("CKV_K8S_26")
                severity = Severity.MEDIUM
            else:
                severity = Severity.LOW if port.host_ip in _ALL_INTERFACES else Severity.INFO
                if port.host_ip in _ALL_INTERFACES:
                    aliases.append("docker-bench:5.13")
            if port.host_port and port.host_port < 1024:
                aliases.append("docker-bench:5.7")
            yield RULE.finding(w, c, _describe(port), port.line or c.line, severity=severity, aliases=aliases)


def _describe(port: Port) -> str:
    where = "every host interface" if port.host_ip in _ALL_INTERFACES else f"host address {port.host_ip}"
    host = f"host port {port.host_port}" if port.host_port else "a random host port"
    return f"binds {host} on {where} to container port {port.container_port}/{port.protocol}"


RULE = Rule(
    id="PSB-A006",
    severity=Severity.MEDIUM,
    title="Port bound on the host",
    fix="Expose the port through a Service (Kubernetes) or bind it to one address, e.g. 127.0.0.1:8080:80.",
    aliases=(baseline("HostPorts"), "CKV_K8S_26", "docker-bench:5.13", "docker-bench:5.7"),
    check=check,
)
