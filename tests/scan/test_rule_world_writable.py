from .helpers import by_rule, scan
from .imagebuild import F


def test_world_writable_file_and_dir(build):
    image = build(
        {
            "srv/shared": F(kind="dir", mode=0o777),
            "etc/app.conf": F(b"x", mode=0o666),
            "srv/drop": F(kind="dir", mode=0o1777),
        }
    )
    found = {f.location.path for f in by_rule(scan(image.path, {"files"}), "PSB-I011")}
    assert found == {"/srv/shared", "/etc/app.conf"}


def test_busybox_root_has_none(build):
    assert not by_rule(scan(build().path, {"files"}), "PSB-I011")  # /tmp is 1777, symlinks are skipped
