from .helpers import by_rule, scan
from .imagebuild import F


def test_nopasswd_found_with_line(build):
    sudoers = b"Defaults env_reset\n# user ALL=(ALL) NOPASSWD: ALL\n"
    sudoers += b"root ALL=(ALL) ALL\nuser ALL=(ALL) NOPASSWD: ALL\n"
    image = build(
        {"etc/sudoers": F(sudoers, mode=0o440), "etc/sudoers.d/ci": F(b"%ci ALL=NOPASSWD: /bin/sh\n")}
    )
    found = {(f.location.path, f.location.line) for f in by_rule(scan(image.path, {"files"}), "PSB-I016")}
    assert found == {("/etc/sudoers", 4), ("/etc/sudoers.d/ci", 1)}


def test_password_sudo_passes(build):
    image = build({"etc/sudoers": F(b"root ALL=(ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\n", mode=0o440)})
    assert not by_rule(scan(image.path, {"files"}), "PSB-I016")
