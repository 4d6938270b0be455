from .helpers import by_rule, scan
from .imagebuild import F, LayerSpec

KEY = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"


def test_secret_deleted_later_is_still_reported(build):
    image = build(
        LayerSpec(
            {
                "root/.ssh/id_ed25519": F(KEY),
                "build/token.txt": F(b"t=ghp_0123456789abcdefghijABCDEFGHIJ012345\n"),
            },
            created_by="COPY keys /",
        ),
        LayerSpec(
            {"root/.ssh/id_ed25519": F(kind="whiteout"), "build": F(kind="whiteout")},
            created_by="RUN rm -rf /root/.ssh/id_ed25519 /build",
        ),
    )
    findings = scan(image.path)
    removed = {f.location.path: f for f in by_rule(findings, "PSB-I015")}
    assert set(removed) == {"/root/.ssh/id_ed25519", "/build/token.txt"}
    for f in removed.values():
        assert f.location.layer == image.digests[1] and f.extra["removed_in"] == image.digests[2]
    assert removed["/build/token.txt"].severity.label == "critical"
    [key] = by_rule(findings, "PSB-I012")
    assert "deleted in layer" in key.message and key.location.layer == image.digests[1]


def test_secret_overwritten_later_is_still_reported(build):
    image = build(
        {"etc/app.conf": F(b"token = ghp_0123456789abcdefghijABCDEFGHIJ012345\n")},
        {"etc/app.conf": F(b"token = from-env\n")},
    )
    [f] = by_rule(scan(image.path), "PSB-I015")
    assert "overwritten" in f.message and f.location.layer == image.digests[1]


def test_opaque_directory_removes_lower_files(build):
    image = build(
        {"srv/cache/a.bin": F(b"x" * 100), "srv/cache/b.bin": F(b"y" * 50)},
        {"srv/cache": F(kind="opaque"), "srv/cache/new": F(b"z")},
    )
    [f] = by_rule(scan(image.path), "PSB-I015")
    assert f.severity.label == "info" and "2 files (150 bytes)" in f.message


def test_nothing_removed_passes(build):
    assert not by_rule(scan(build({"etc/app.conf": F(b"x")}).path), "PSB-I015")
