from .helpers import by_rule, scan
from .imagebuild import F


def test_empty_password_in_shadow_and_passwd(build):
    shadow = b"root:!:19000:0:99999:7:::\nuser::19000:0:99999:7:::\n"
    passwd = b"root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n"
    passwd += b"guest::1001:1001::/tmp:/bin/sh\n"
    image = build({"etc/shadow": F(shadow, mode=0o640), "etc/passwd": F(passwd)})
    found = {(f.location.path, f.location.line) for f in by_rule(scan(image.path, {"files"}), "PSB-I018")}
    assert found == {("/etc/shadow", 2), ("/etc/passwd", 3)}


def test_locked_accounts_pass(build):
    image = build({"etc/shadow": F(b"root:*:19000:0:99999:7:::\nuser:!:19000::::::\n", mode=0o640)})
    assert not by_rule(scan(image.path, {"files"}), "PSB-I018")
