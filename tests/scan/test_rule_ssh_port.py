from .helpers import CLEAN_CONFIG, by_rule, scan


def test_exposed_22_is_found(build):
    config = {**CLEAN_CONFIG, "ExposedPorts": {"22/tcp": {}, "8080/tcp": {}}}
    [f] = by_rule(scan(build(config=config).path, {"config"}), "PSB-I005")
    assert "22/tcp" in f.message and "DS004" in f.aliases


def test_other_ports_pass(build):
    config = {**CLEAN_CONFIG, "ExposedPorts": {"2222/tcp": {}, "22/udp": {}}}
    assert not by_rule(scan(build(config=config).path, {"config"}), "PSB-I005")
