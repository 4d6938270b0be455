#!/usr/bin/env bash
# `make demo`: the main jobs on built-in examples — a strict sandbox, an image run, a lint,
# a scan, a config audit and an audit-log verify. Everything lives in a throw-away PYSANDBOX_HOME.
set -euo pipefail
cd "$(dirname "$0")"
export PYSANDBOX_HOME
PYSANDBOX_HOME=$(mktemp -d /var/tmp/pysandbox-demo.XXXXXX)
chmod 755 "$PYSANDBOX_HOME"
work=$(mktemp -d /var/tmp/pysandbox-demo-work.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$PYSANDBOX_HOME" "$work"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }
# Runs a command that is expected to exit with a given status (1 = findings at the threshold).
expect() {
  local want=$1; shift
  set +e; "$@"; local got=$?; set -e
  if [ "$got" != "$want" ]; then echo "demo: expected exit $want from '$*', got $got" >&2; exit 1; fi
  echo "(exit $got, as expected)"
}

if [ "$(id -u)" != 0 ] && ! grep -q "pysandbox/user-$(id -u)" /proc/self/cgroup 2>/dev/null; then
  echo "note: as a non-root user, strict's resource limits need: sudo pysandbox setup --delegate $USER"
fi

step "1. Untrusted code under the strict profile (host root, read-only, no network, no caps)" \
  pysandbox run --profile strict -- /bin/sh -c '...'
pysandbox run --profile strict -- /bin/sh -c '
  echo "inside: $(id)"; echo "hostname: $(hostname)"
  grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status
  touch /etc/owned 2>/dev/null && echo "BAD: wrote /etc" || echo "write to /etc refused (read-only root)"
  ls /home 2>/dev/null | head -1 | grep -q . && echo "BAD: host /home visible" || echo "host /home not visible"
  echo "interfaces: $(ls /sys/class/net 2>/dev/null || cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " ")"'

step "2. A container image: import a busybox root, run it under strict" \
  pysandbox image import rootfs.tar --tag demo/busybox:1
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/root/.aws" "$work/rootfs/tmp"
cp "$(command -v busybox)" "$work/rootfs/bin/busybox"
for applet in sh echo cat id ls; do ln -sf busybox "$work/rootfs/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$work/rootfs/etc/passwd"
# planted problems for the scan below
printf '[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' > "$work/rootfs/root/.aws/credentials"
chmod 4755 "$work/rootfs/bin/busybox"
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
pysandbox image import -q "$work/rootfs.tar" --tag demo/busybox:1
pysandbox run --profile strict demo/busybox:1 -- sh -c 'echo "hello from an image, as $(id -u)"'

step "3. Lint a Dockerfile (fails the gate at high)" pysandbox lint --failure-threshold high examples/Dockerfile
expect 1 pysandbox lint --failure-threshold high Dockerfile

step "4. Scan the image (fails the gate at high; vulnerabilities need trivy's database)" \
  pysandbox scan demo/busybox:1 --fail-on high
expect 1 pysandbox scan demo/busybox:1 --fail-on high --scanners config,files,secret,packages

step "5. Audit container configurations for risky mounts and privileges" \
  pysandbox audit config examples/compose.yaml examples/pod.yaml --fail-on critical
expect 1 pysandbox audit config compose.yaml pod.yaml --fail-on critical

step "6. The tamper-evident event log of everything above" "pysandbox audit log; pysandbox audit verify"
pysandbox audit log --limit 8
pysandbox audit verify

step "7. The same strict policy for a fleet: a Kubernetes Pod" pysandbox export --profile strict --format kubernetes --image demo/busybox:1
pysandbox export --profile strict --format kubernetes --image demo/busybox:1
