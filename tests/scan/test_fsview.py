"""The layered view: which layer added a path, what later layers replaced or deleted."""

from pysandbox.scanner.image.fsview import LayeredFS
from pysandbox.scanner.image.targets import open_target

from .imagebuild import F


def _fs(path):
    return LayeredFS.build(open_target(str(path)), keep=lambda p, s: p.startswith("/srv/"))


def test_layers_whiteouts_opaque_and_replacement(build):
    image = build(
        {"srv/a": F(b"1"), "srv/d/x": F(b"2"), "srv/o/y": F(b"3"), "srv/link": F(kind="symlink", target="a")},
        {"srv/a": F(b"new"), "srv/d": F(kind="whiteout"), "srv/o": F(kind="opaque"), "srv/o/z": F(b"4")},
    )
    fs = _fs(image.path)
    assert fs.get("/srv/a").content == b"new" and fs.get("/srv/a").layer.digest == image.digests[2]
    assert fs.resolve("/srv/link").content == b"new"
    assert fs.get("/srv/d") is None and fs.get("/srv/d/x") is None
    assert fs.get("/srv/o/y") is None and fs.get("/srv/o/z").content == b"4"
    gone = {r.path: r for r in fs.removed() if r.path.startswith("/srv/")}
    assert gone["/srv/a"].replaced_in.digest == image.digests[2] and gone["/srv/a"].content == b"1"
    assert gone["/srv/d/x"].removed_in.digest == image.digests[2]
    assert gone["/srv/o/y"].removed_in.digest == image.digests[2]
    assert "/srv/o" not in gone  # an opaque directory keeps itself, only its lower children go
    assert fs.get("/bin/busybox").layer.digest == image.digests[0]


def test_file_replacing_directory_hides_its_children(build):
    image = build({"srv/d/x": F(b"1")}, {"srv/d": F(b"now a file")})
    fs = _fs(image.path)
    assert fs.get("/srv/d").content == b"now a file" and fs.get("/srv/d/x") is None
