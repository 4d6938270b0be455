"""Package inventory as CycloneDX 1.6 JSON (cyclonedx-python-lib + packageurl-python).

Registered as the `cyclonedx` renderer in `pysandbox.report.RENDERERS`; it renders the packages
of a scan report (and, when trivy ran, its vulnerabilities as the BOM's `vulnerabilities`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pysandbox import __version__
from pysandbox.report import RENDERERS, Report
from pysandbox.types import Finding, Severity, UserError

if TYPE_CHECKING:
    from pysandbox.scanner.image.packages import Package

SPEC_VERSION = "1.6"


def build_bom(target: str, packages: Sequence[Package], findings: Sequence[Finding] = ()) -> Any:
    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.license import DisjunctiveLicense
    from packageurl import PackageURL

    bom = Bom()
    bom.metadata.component = Component(name=target, type=ComponentType.CONTAINER, bom_ref="image")
    bom.metadata.tools.components.add(
        Component(name="pysandbox", version=__version__, type=ComponentType.APPLICATION)
    )
    refs: dict[tuple[str, str], Any] = {}
    for index, pkg in enumerate(packages):
        purl = pkg.purl()
        props = [Property(name="pysandbox:path", value=pkg.path)]
        if pkg.layer:
            props.append(Property(name="pysandbox:layer", value=pkg.layer))
        if pkg.source_name:
            props.append(Property(name="pysandbox:source-package", value=pkg.source_name))
        component = Component(
            name=pkg.name,
            version=pkg.version,
            type=ComponentType.LIBRARY,
            bom_ref=f"{purl}#{index}",
            purl=PackageURL.from_string(purl),
            properties=props,
            licenses=[DisjunctiveLicense(name=pkg.license)] if pkg.license else None,
        )
        bom.components.add(component)
        bom.register_dependency(bom.metadata.component, [component])
        refs.setdefault((pkg.name, pkg.version), component.bom_ref)
    for vuln in _vulnerabilities(findings, refs):
        bom.vulnerabilities.add(vuln)
    return bom


def _vulnerabilities(findings: Sequence[Finding], refs: dict[tuple[str, str], Any]) -> list[Any]:
    from cyclonedx.model.impact_analysis import ImpactAnalysisAffectedStatus
    from cyclonedx.model.vulnerability import (
        BomTarget,
        BomTargetVersionRange,
        Vulnerability,
        VulnerabilityRating,
        VulnerabilitySeverity,
        VulnerabilitySource,
    )

    severities = {
        Severity.CRITICAL: VulnerabilitySeverity.CRITICAL,
        Severity.HIGH: VulnerabilitySeverity.HIGH,
        Severity.MEDIUM: VulnerabilitySeverity.MEDIUM,
        Severity.LOW: VulnerabilitySeverity.LOW,
        Severity.INFO: VulnerabilitySeverity.UNKNOWN,
    }
    out = []
    for f in findings:
        vid = f.extra.get("vulnerability_id")
        if not isinstance(vid, str):
            continue
        ref = refs.get((str(f.extra.get("package")), str(f.extra.get("installed_version"))))
        affects = []
        if ref is not None:
            version = BomTargetVersionRange(
                version=str(f.extra.get("installed_version")), status=ImpactAnalysisAffectedStatus.AFFECTED
            )
            affects.append(BomTarget(ref=ref.value, versions=[version]))
        url = f.extra.get("url")
        out.append(
            Vulnerability(
                id=vid,
                description=f.title,
                source=VulnerabilitySource(name="trivy", url=None) if not url else _source(url),
                ratings=[VulnerabilityRating(severity=severities[f.severity])],
                recommendation=f.fix,
                affects=affects,
            )
        )
    return out


def _source(url: str) -> Any:
    from cyclonedx.model import XsUri
    from cyclonedx.model.vulnerability import VulnerabilitySource

    return VulnerabilitySource(name="trivy", url=XsUri(url))


def render_cyclonedx(report: Report) -> str:
    packages = getattr(report, "packages", None)
    if packages is None:
        raise UserError("--format cyclonedx is only available for `pysandbox scan`: use table, json or sarif")
    from cyclonedx.output.json import JsonV1Dot6

    bom = build_bom(report.target, packages, report.findings)
    return str(JsonV1Dot6(bom).output_as_string(indent=2))


RENDERERS["cyclonedx"] = render_cyclonedx
