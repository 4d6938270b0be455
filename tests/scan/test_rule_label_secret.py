from .helpers import CLEAN_CONFIG, by_rule, scan


def test_secret_label_is_found(build):
    labels = {
        "maintainer": "ops@corp",
        "deploy.token": "Zq8vN3mK1pL9xR4t",
        "slack": "xoxb-1234567890-ABCDEFGHIJKLmnop",
    }
    findings = by_rule(scan(build(config={**CLEAN_CONFIG, "Labels": labels}).path, {"config"}), "PSB-I003")
    assert {f.location.path for f in findings} == {
        "image-config/Labels/deploy.token",
        "image-config/Labels/slack",
    }


def test_plain_labels_pass(build):
    labels = {"org.opencontainers.image.source": "https://git.example/app", "version": "1.2.3"}
    assert not by_rule(scan(build(config={**CLEAN_CONFIG, "Labels": labels}).path, {"config"}), "PSB-I003")
