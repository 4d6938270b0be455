from .helpers import CLEAN_CONFIG, by_rule, scan
from .imagebuild import F


def test_no_user_is_root(build):
    image = build(config={**CLEAN_CONFIG, "User": ""})
    [f] = by_rule(scan(image.path, {"config"}), "PSB-I001")
    assert f.severity.label == "medium" and f.location.path == "image-config/User"
    assert "CIS-DI-0001" in f.aliases


def test_user_zero_and_root_by_name(build):
    for user in ("0", "root:root", "0:0"):
        assert by_rule(scan(build(config={**CLEAN_CONFIG, "User": user}).path, {"config"}), "PSB-I001")


def test_named_user_with_uid_zero_is_root(build):
    passwd = b"root:x:0:0:root:/root:/bin/sh\nadmin:x:0:0::/home/admin:/bin/sh\n"
    image = build({"etc/passwd": F(passwd)}, config={**CLEAN_CONFIG, "User": "admin"})
    [f] = by_rule(scan(image.path, {"config", "files"}), "PSB-I001")
    assert "uid 0" in f.message


def test_non_root_user_passes(build):
    assert not by_rule(
        scan(build(config={**CLEAN_CONFIG, "User": "user"}).path, {"config", "files"}), "PSB-I001"
    )
