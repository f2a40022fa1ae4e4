"""Where the wheel's commands are: the scripts folder of this interpreter's environment
(where pip put them), else ``$SSO_HARNESS_BIN_DIR`` (a cargo build's ``target/debug``), else
the PATH."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig


def binary(name: str) -> str:
    """The path of ``mock-idp`` or ``conformance``."""
    exe = name + (".exe" if os.name == "nt" else "")
    folders = [os.environ.get("SSO_HARNESS_BIN_DIR"), sysconfig.get_path("scripts"),
               os.path.dirname(sys.executable)]
    for folder in folders:
        if folder:
            path = os.path.join(folder, exe)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
    found = shutil.which(exe)
    if found:
        return found
    looked = ", ".join(f for f in folders if f)
    raise FileNotFoundError(
        f"{name}: not found in {looked} or on the PATH; `pip install sso-harness` installs it"
    )
