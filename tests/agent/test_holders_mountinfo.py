"""Namespace mounts read from a mountinfo text (pure): only network-namespace (nsfs "net:[N]")
mounts, with the mount point's octal escapes decoded."""

from __future__ import annotations

from agent.holders import parse_mountinfo

MOUNTINFO = "\n".join(
    [
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw",
        "610 25 0:4 net:[4026532306] /run/netns/blue rw shared:276 - nsfs nsfs rw",
        "611 22 0:4 net:[4026532307] /tmp/a\\040b/net rw,relatime - nsfs nsfs rw",
        "612 22 0:4 mnt:[4026532308] /run/snapd/ns/x.mnt rw - nsfs nsfs rw",
        "613 22 0:52 / /tmp/net:[1] rw - tmpfs tmpfs rw",
    ]
)


def test_it_lists_network_namespace_mounts_with_their_paths() -> None:
    assert parse_mountinfo(MOUNTINFO) == [(4026532306, "/run/netns/blue"), (4026532307, "/tmp/a b/net")]


def test_it_lists_nothing_in_a_table_without_namespace_mounts() -> None:
    assert parse_mountinfo("22 1 8:1 / / rw - ext4 /dev/vda1 rw\n") == []


def test_it_leaves_out_the_namespaces_it_is_told_to_skip() -> None:
    assert parse_mountinfo(MOUNTINFO, skip={4026532306}) == [(4026532307, "/tmp/a b/net")]
