"""What the OCI tests compare between `pysandbox run` and runc: one shell script, same rootfs."""

from __future__ import annotations

# Escape attempts of tests/security/attack.c that need nothing but the sandbox itself.
ATTACKS = (
    "mount",
    "unshare-user",
    "clone-newns",
    "setns",
    "ptrace-child",
    "keyctl",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "kexec_load",
    "init_module",
    "reboot",
    "swapon",
    "mknod-block",
    "proc-sys",
    "core_pattern",
    "sysrq-trigger",
    "release_agent",
    "kcore",
    "proc-keys",
    "setuid",
)

SCRIPT = r"""
grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp|Seccomp_filters):' /proc/self/status
echo "id $(id)"
echo "hostname $(hostname)"
if touch /psb-probe 2>/dev/null; then echo "root writable"; rm -f /psb-probe
else echo "root read-only"; fi
for f in /proc/keys /proc/timer_list /proc/kcore; do
  if [ -e "$f" ]; then echo "$f $(wc -c < "$f") bytes"; else echo "$f absent"; fi
done
if echo psb > /proc/sys/kernel/hostname 2>/dev/null; then echo "/proc/sys writable"
else echo "/proc/sys read-only"; fi
echo "rlimits nofile=$(ulimit -n) nproc=$(ulimit -u) core=$(ulimit -c) fsize=$(ulimit -f)"
echo "tmp $(grep ' /tmp ' /proc/mounts | cut -d' ' -f3)"
echo "sys $(grep -c ' /sys ' /proc/mounts)"
for a in ATTACKS; do /attack "$a"; done
""".replace("ATTACKS", " ".join(ATTACKS))

ARGV = ["/bin/sh", "-c", SCRIPT]


def outcomes(stdout: str) -> dict[str, str]:
    """attack name -> SUCCEEDED/BLOCKED."""
    out = {}
    for line in stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) >= 2 and parts[0] in ATTACKS and parts[1] in ("SUCCEEDED", "BLOCKED"):
            out[parts[0]] = parts[1]
    return out


def facts(stdout: str) -> list[str]:
    """The lines that are not attack results."""
    return [line for line in stdout.splitlines() if line.split(" ", 1)[0] not in ATTACKS]
