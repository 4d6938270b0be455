import base64
import json

from .helpers import by_rule, scan
from .imagebuild import F

AUTH = base64.b64encode(b"bot:Sup3rS3cret").decode()
FILES = {
    "root/.aws/credentials": b"[default]\naws_access_key_id = AKIAQWERTYUIOPASDFGH\n"
    b"aws_secret_access_key = x\n",
    "root/.docker/config.json": json.dumps({"auths": {"registry.example": {"auth": AUTH}}}).encode(),
    "home/user/.npmrc": b"//registry.npmjs.org/:_authToken=npm_abcdef123456\n",
    "root/.pypirc": b"[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc\n",
    "root/.git-credentials": b"https://bot:ghs_tokenvalue@github.com\n",
    "root/.netrc": b"machine api.example login bot password hunter2hunter2\n",
    "root/.kube/config": b"apiVersion: v1\nusers:\n- name: admin\n  user:\n    token: eyJhbGciOi\n",
    "app/.env": b"DEBUG=1\nDATABASE_PASSWORD=pr0d-P4ss-2024\n",
}


def test_every_credentials_file_is_found(build):
    image = build({path: F(data) for path, data in FILES.items()})
    found = {f.location.path: f for f in by_rule(scan(image.path, {"files"}), "PSB-I013")}
    assert set(found) == {"/" + p for p in FILES}
    assert all(f.location.layer == image.digests[1] for f in found.values())


def test_files_without_secrets_pass(build):
    image = build(
        {
            "root/.docker/config.json": F(b'{"credsStore": "desktop"}'),
            "home/user/.npmrc": F(b"registry=https://registry.npmjs.org/\n"),
            "app/.env.example": F(b"DATABASE_PASSWORD=changeme\n"),
            "app/.env": F(b"DEBUG=1\nPORT=8080\n"),
        }
    )
    assert not by_rule(scan(image.path, {"files"}), "PSB-I013")
