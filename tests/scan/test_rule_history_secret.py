from .helpers import by_rule, scan
from .imagebuild import F, LayerSpec


def test_build_arg_in_history_is_found_with_its_layer(build):
    step = "RUN |2 NPM_TOKEN=npm_Qx7rT2vK9mB4 VERSION=1.0 /bin/sh -c npm ci"
    image = build(LayerSpec({"app/x": F(b"1")}, created_by=step))
    [f] = by_rule(scan(image.path, {"config"}), "PSB-I004")
    assert f.location.path == "image-config/history/1" and f.location.layer == image.digests[1]
    assert "NPM_TOKEN" in f.message and "Qx7rT2vK9mB4" not in f.message


def test_secret_inline_in_run_step(build):
    step = "/bin/sh -c curl -H 'Authorization: token ghp_0123456789abcdefghijABCDEFGHIJ012345' https://x"
    image = build(LayerSpec({"app/x": F(b"1")}, created_by=step))
    [f] = by_rule(scan(image.path, {"config"}), "PSB-I004")
    assert f.severity.label == "critical"


def test_metadata_only_step_has_no_layer(build):
    image = build(history_extra=[{"created_by": "ARG API_KEY=Lm4nB7vC2xZ9qW", "empty_layer": True}])
    [f] = by_rule(scan(image.path, {"config"}), "PSB-I004")
    assert f.location.layer is None


def test_plain_history_passes(build):
    image = build(LayerSpec({"app/x": F(b"1")}, created_by="RUN |1 VERSION=1.0 /bin/sh -c make install"))
    assert not by_rule(scan(image.path, {"config"}), "PSB-I004")
