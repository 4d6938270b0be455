from .helpers import CLEAN_CONFIG, by_rule, scan


def test_latest_base_in_history(build):
    image = build(history_extra=[{"created_by": "FROM docker.io/library/debian:latest", "empty_layer": True}])
    [f] = by_rule(scan(image.path, {"config"}), "PSB-I007")
    assert f.severity.label == "medium" and "debian:latest" in f.message


def test_untagged_and_undigested_base_labels(build):
    labels = {"org.opencontainers.image.base.name": "docker.io/library/alpine"}
    [f] = by_rule(scan(build(config={**CLEAN_CONFIG, "Labels": labels}).path, {"config"}), "PSB-I007")
    assert f.severity.label == "medium"
    labels = {"org.opencontainers.image.base.name": "docker.io/library/alpine:3.19"}
    [f] = by_rule(scan(build(config={**CLEAN_CONFIG, "Labels": labels}).path, {"config"}), "PSB-I007")
    assert f.severity.label == "low" and "digest" in f.message


def test_pinned_base_passes(build):
    labels = {
        "org.opencontainers.image.base.name": "docker.io/library/alpine:3.19",
        "org.opencontainers.image.base.digest": "sha256:" + "a" * 64,
    }
    image = build(
        config={**CLEAN_CONFIG, "Labels": labels},
        history_extra=[{"created_by": "FROM alpine:3.19@sha256:" + "b" * 64, "empty_layer": True}],
    )
    assert not by_rule(scan(image.path, {"config"}), "PSB-I007")
