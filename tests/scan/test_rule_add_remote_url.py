from .helpers import by_rule, scan
from .imagebuild import F, LayerSpec


def test_add_url_in_history(build):
    image = build(
        LayerSpec({"opt/tool.tgz": F(b"x")}, created_by="ADD https://example.com/tool.tgz /opt/ # buildkit")
    )
    [f] = by_rule(scan(image.path, {"config"}), "PSB-I008")
    assert f.location.layer == image.digests[1] and "https://example.com/tool.tgz" in f.message


def test_add_with_checksum_or_local_passes(build):
    image = build(
        LayerSpec({"opt/a": F(b"x")}, created_by="ADD --checksum=sha256:abc https://example.com/a /opt/"),
        LayerSpec({"opt/b": F(b"x")}, created_by="ADD app.tar /opt/"),
    )
    assert not by_rule(scan(image.path, {"config"}), "PSB-I008")
