"""The private copy a build starts from: a copy-on-write clone when the filesystem has one.

Why: `carepulse build` never writes the published warehouse (readers keep a complete
snapshot and are never blocked), so each build starts from a private copy of it and
publishes by an atomic rename. On a filesystem with reflinks (btrfs, XFS with reflink=1,
bcachefs; ZFS with block cloning) the copy is a clone that shares every block until dbt
rewrites it: constant time, and the disk holds only what the build changed. Elsewhere
(ext4, tmpfs, overlayfs) it is a plain copy, whose cost the build prints as its own step.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

#: linux/fs.h FICLONE = _IOW(0x94, 9, int): clone all of one file's extents into another.
FICLONE = 0x40049409


def clone_or_copy(source: Path, destination: Path) -> str:
    """Copy source to a new file destination; 'clone' when the filesystem shared the blocks,
    'copy' when it copied them."""
    with open(source, "rb") as src, open(destination, "xb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
            return "clone"
        except OSError:
            pass
    shutil.copyfile(source, destination)
    os.utime(destination)
    return "copy"
