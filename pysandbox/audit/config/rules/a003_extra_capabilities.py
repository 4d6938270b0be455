"""PSB-A003: capabilities added beyond what the Pod Security Standards allow (other than dangerous ones)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.audit.config.model import Workload
from pysandbox.audit.config.rules.base import Rule
from pysandbox.audit.config.rules.capabilities import DANGEROUS, granted_or_added
from pysandbox.audit.config.standards import BASELINE_CAPS, RESTRICTED_CAPS, baseline, restricted
from pysandbox.types import Finding, Severity


def check(w: Workload) -> Iterator[Finding]:
    for c in w.containers:
        extra = [cap for cap in granted_or_added(c) if cap not in DANGEROUS and cap not in RESTRICTED_CAPS]
        if not extra:
            continue
        beyond_baseline = [cap for cap in extra if cap not in BASELINE_CAPS]
        aliases = [restricted("Capabilities"), "docker-bench:5.3", "CKV_K8S_25"]
        if beyond_baseline:
            aliases.insert(0, baseline("Capabilities"))
        verb = "keeps" if c.caps_granted is not None else "adds"
        message = f"{verb} capabilities {', '.join(extra)}"
        if beyond_baseline:
            message += f" ({', '.join(beyond_baseline)} beyond the baseline set)"
        else:
            message += " (restricted allows only NET_BIND_SERVICE)"
        yield RULE.finding(
            w,
            c,
            message,
            c.line_of("cap_add"),
            severity=Severity.LOW if beyond_baseline else Severity.INFO,
            aliases=aliases,
        )


RULE = Rule(
    id="PSB-A003",
    severity=Severity.LOW,
    title="Capabilities added beyond the allowed set",
    fix="Grant no capabilities but NET_BIND_SERVICE; drop ALL and add back only what is proven necessary.",
    aliases=(baseline("Capabilities"), restricted("Capabilities"), "docker-bench:5.3", "CKV_K8S_25"),
    check=check,
    fixes={
        "profile": "Keep only the capabilities the workload needs in capabilities.keep (ideally none).",
        "oci": "Remove them from process.capabilities (keep at most CAP_NET_BIND_SERVICE).",
    },
)
