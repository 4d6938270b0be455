from .helpers import by_rule, scan
from .imagebuild import F

KEY = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"


def test_host_keys_found_once(build):
    image = build(
        {
            "etc/ssh/ssh_host_ed25519_key": F(KEY, mode=0o600),
            "etc/ssh/ssh_host_ed25519_key.pub": F(b"ssh-ed25519 AAAA"),
        }
    )
    findings = scan(image.path)
    [f] = by_rule(findings, "PSB-I020")
    assert f.location.path == "/etc/ssh/ssh_host_ed25519_key" and f.location.layer == image.digests[1]
    assert not by_rule(findings, "PSB-I012")  # not reported twice as a generic private key


def test_no_host_keys_passes(build):
    assert not by_rule(scan(build({"etc/ssh/sshd_config": F(b"PermitRootLogin no\n")}).path), "PSB-I020")
