from .helpers import by_rule, scan
from .imagebuild import F

RSA = b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1x\n-----END RSA PRIVATE KEY-----\n"
OPENSSH = (
    b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
)
PGP = b"comment\n-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----\n"
ENCRYPTED = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBO\n-----END ENCRYPTED PRIVATE KEY-----\n"


def test_private_keys_found_with_line_and_layer(build):
    image = build(
        {
            "root/.ssh/id_rsa": F(RSA, mode=0o600),
            "home/user/.ssh/id_ed25519": F(OPENSSH),
            "srv/signing.asc": F(PGP),
            "srv/tls.key": F(ENCRYPTED),
        }
    )
    found = {f.location.path: f for f in by_rule(scan(image.path, {"secret"}), "PSB-I012")}
    assert set(found) == {
        "/root/.ssh/id_rsa",
        "/home/user/.ssh/id_ed25519",
        "/srv/signing.asc",
        "/srv/tls.key",
    }
    assert found["/srv/signing.asc"].location.line == 2
    assert found["/root/.ssh/id_rsa"].location.layer == image.digests[1]
    assert found["/root/.ssh/id_rsa"].severity.label == "high"
    assert found["/srv/tls.key"].severity.label == "medium"


def test_public_keys_pass(build):
    image = build(
        {
            "root/.ssh/id_rsa.pub": F(b"ssh-rsa AAAAB3Nza user@host\n"),
            "etc/ssl/cert.pem": F(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
        }
    )
    assert not by_rule(scan(image.path, {"secret"}), "PSB-I012")
