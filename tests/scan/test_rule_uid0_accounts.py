from .helpers import by_rule, scan
from .imagebuild import F


def test_second_root_account(build):
    passwd = (
        b"root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\ntoor:x:0:0::/root:/bin/sh\n"
    )
    image = build({"etc/passwd": F(passwd)})
    [f] = by_rule(scan(image.path, {"files"}), "PSB-I017")
    assert (f.location.path, f.location.line, f.location.layer) == ("/etc/passwd", 3, image.digests[1])


def test_busybox_passwd_passes(build):
    assert not by_rule(scan(build().path, {"files"}), "PSB-I017")
