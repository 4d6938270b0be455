"""PSB-I010: setuid/setgid files (known-safe system tools are still listed, at low)."""

from __future__ import annotations

import stat
from collections.abc import Iterable

from pysandbox.scanner.image.rules.base import FILES, Rule, ScanContext, basename
from pysandbox.scanner.image.source import Kind
from pysandbox.types import Finding, Severity

# Shipped setuid/setgid by distributions for a reason; still worth knowing they are there.
KNOWN_SAFE = frozenset(
    {
        "passwd",
        "su",
        "mount",
        "umount",
        "chsh",
        "chfn",
        "newgrp",
        "gpasswd",
        "chage",
        "expiry",
        "unix_chkpwd",
        "ping",
        "ping6",
        "wall",
        "write",
        "crontab",
        "ssh-agent",
        "ssh-keysign",
        "newuidmap",
        "newgidmap",
        "fusermount",
        "fusermount3",
        "dbus-daemon-launch-helper",
        "bsd-write",
        "pam_extrausers_chkpwd",
        "pam_timestamp_check",
        "traceroute6.iputils",
        "dotlockfile",
        "utempter",
        "Xorg.wrap",
        "at",
        "mlocate",
        "plocate",
        "login",
        "procmail",
        "lockfile",
    }
)


class SetuidFile(Rule):
    id = "PSB-I010"
    severity = Severity.HIGH
    title = "setuid/setgid file"
    fix = (
        "Remove the setuid/setgid bit unless the program needs it: "
        "`RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +`."
    )
    scanner = FILES
    aliases = ("CIS-DI-0008",)

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        for record in sorted(ctx.fs.files(), key=lambda r: r.path):
            bits = record.mode & (stat.S_ISUID | stat.S_ISGID)
            if not bits or record.kind not in (Kind.FILE, Kind.HARDLINK):
                continue
            what = {stat.S_ISUID: "setuid", stat.S_ISGID: "setgid"}.get(bits, "setuid and setgid")
            owner = "root" if record.uid == 0 else f"uid {record.uid}"
            if basename(record.path) in KNOWN_SAFE:
                yield self.file_finding(
                    ctx,
                    record,
                    f"{record.path} is {what} ({owner}, mode {record.mode:04o}); "
                    "a known system tool, listed for review.",
                    severity=Severity.LOW,
                )
            else:
                yield self.file_finding(
                    ctx, record, f"{record.path} is {what} ({owner}, mode {record.mode:04o})."
                )


RULE = SetuidFile()
