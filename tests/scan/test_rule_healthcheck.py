from .helpers import CLEAN_CONFIG, by_rule, scan


def test_missing_healthcheck(build):
    config = {k: v for k, v in CLEAN_CONFIG.items() if k != "Healthcheck"}
    [f] = by_rule(scan(build(config=config).path, {"config"}), "PSB-I006")
    assert f.severity.label == "low" and "CIS-DI-0006" in f.aliases


def test_disabled_healthcheck(build):
    config = {**CLEAN_CONFIG, "Healthcheck": {"Test": ["NONE"]}}
    [f] = by_rule(scan(build(config=config).path, {"config"}), "PSB-I006")
    assert "NONE" in f.message


def test_healthcheck_present_passes(build):
    assert not by_rule(scan(build().path, {"config"}), "PSB-I006")
