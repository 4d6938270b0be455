from .helpers import by_rule, scan
from .imagebuild import F


def test_unknown_setuid_is_high_known_is_low(build):
    image = build(
        {
            "usr/local/bin/helper": F(b"\x7fELF", mode=0o4755),
            "usr/bin/passwd": F(b"\x7fELF", mode=0o4755),
            "usr/bin/crontab": F(b"\x7fELF", mode=0o2755),
        }
    )
    found = {f.location.path: f for f in by_rule(scan(image.path, {"files"}), "PSB-I010")}
    assert set(found) == {"/usr/local/bin/helper", "/usr/bin/passwd", "/usr/bin/crontab"}
    assert found["/usr/local/bin/helper"].severity.label == "high"
    assert found["/usr/local/bin/helper"].location.layer == image.digests[1]
    assert found["/usr/bin/passwd"].severity.label == "low"
    assert "setgid" in found["/usr/bin/crontab"].message


def test_bit_removed_in_later_layer_passes(build):
    image = build(
        {"usr/local/bin/helper": F(b"x", mode=0o4755)}, {"usr/local/bin/helper": F(b"x", mode=0o755)}
    )
    assert not by_rule(scan(image.path, {"files"}), "PSB-I010")
