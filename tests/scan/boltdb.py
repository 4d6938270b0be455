"""A minimal BoltDB (go.etcd.io/bbolt, format version 2) writer for the trivy database fixture.

Layout written: page 0 and 1 are the two meta pages, page 2 an empty freelist, then one leaf page
(with overflow pages when large) per bucket, children before parents. Nested buckets are stored as
bucket-flagged leaf elements whose value is the 16-byte bucket header {root pgid, sequence}.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Union

PAGE_SIZE = 4096
MAGIC = 0xED0CDAED
VERSION = 2
BRANCH, LEAF, META, FREELIST = 0x01, 0x02, 0x04, 0x10
BUCKET_LEAF_FLAG = 0x01
PAGE_HEADER = struct.Struct("<QHHI")  # id, flags, count, overflow
LEAF_ELEMENT = struct.Struct("<IIII")  # flags, pos, ksize, vsize

Tree = dict[bytes, Union[bytes, "Tree"]]


def _fnv64a(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


class _Writer:
    def __init__(self) -> None:
        self.pages: list[bytes] = []  # pages from id 3 on, each a whole number of PAGE_SIZE
        self.next_id = 3

    def bucket(self, tree: Tree) -> int:
        """Write a bucket (children first) and return the id of its root leaf page."""
        items: list[tuple[int, bytes, bytes]] = []
        for key in sorted(tree):
            value = tree[key]
            if isinstance(value, dict):
                root = self.bucket(value)
                items.append((BUCKET_LEAF_FLAG, key, struct.pack("<QQ", root, 0)))
            else:
                items.append((0, key, value))
        return self._leaf(items)

    def _leaf(self, items: list[tuple[int, bytes, bytes]]) -> int:
        header_len = PAGE_HEADER.size + LEAF_ELEMENT.size * len(items)
        elements = b""
        data = b""
        for index, (flags, key, value) in enumerate(items):
            element_at = PAGE_HEADER.size + LEAF_ELEMENT.size * index
            pos = header_len + len(data) - element_at
            elements += LEAF_ELEMENT.pack(flags, pos, len(key), len(value))
            data += key + value
        body_len = header_len + len(data)
        npages = max(1, -(-body_len // PAGE_SIZE))
        page_id = self.next_id
        self.next_id += npages
        page = PAGE_HEADER.pack(page_id, LEAF, len(items), npages - 1) + elements + data
        self.pages.append(page.ljust(npages * PAGE_SIZE, b"\0"))
        return page_id


def _meta_page(page_id: int, root: int, high_water: int, txid: int) -> bytes:
    fields = struct.pack("<IIII", MAGIC, VERSION, PAGE_SIZE, 0)
    fields += struct.pack("<QQ", root, 0)  # root bucket header
    fields += struct.pack("<QQQ", 2, high_water, txid)  # freelist page, high water mark, txid
    meta = fields + struct.pack("<Q", _fnv64a(fields))
    return (PAGE_HEADER.pack(page_id, META, 0, 0) + meta).ljust(PAGE_SIZE, b"\0")


def write_boltdb(path: Path, tree: Tree) -> None:
    """Write `tree` (top-level keys are buckets; nested dicts are buckets; bytes are values)."""
    writer = _Writer()
    root = writer.bucket(tree)
    freelist = PAGE_HEADER.pack(2, FREELIST, 0, 0).ljust(PAGE_SIZE, b"\0")
    body = b"".join(writer.pages)
    high_water = writer.next_id
    path.write_bytes(
        _meta_page(0, root, high_water, 0) + _meta_page(1, root, high_water, 1) + freelist + body
    )
