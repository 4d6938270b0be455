from .helpers import by_rule, scan
from .imagebuild import F


def test_apt_and_pip_caches_found(build):
    image = build(
        {
            "var/cache/apt/archives/curl_8.0_amd64.deb": F(b"d" * 300),
            "var/cache/apt/archives/lock": F(b""),
            "var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease": F(b"r" * 100),
            "root/.cache/pip/http/ab/cd": F(b"p" * 10),
        }
    )
    found = {f.location.path: f for f in by_rule(scan(image.path, {"files"}), "PSB-I019")}
    assert set(found) == {"/var/cache/apt/archives", "/var/lib/apt/lists", "/root/.cache/pip"}
    assert found["/var/cache/apt/archives"].extra["bytes"] == 300
    assert found["/var/cache/apt/archives"].location.layer == image.digests[1]


def test_cleaned_cache_passes(build):
    image = build({"var/cache/apt/archives/lock": F(b""), "var/cache/apt/archives/partial": F(kind="dir")})
    assert not by_rule(scan(image.path, {"files"}), "PSB-I019")
