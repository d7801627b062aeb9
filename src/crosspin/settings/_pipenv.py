"""The run's index settings as a pip environment, for the pip that installs build requirements.

A child pip must look exactly where the run looks: the same index, extra
indexes, find-links, trusted hosts and certificates, nothing from pip's own
configuration files (they were already folded into the settings, unless
``--isolated`` said to ignore them) and never pip's default index unless
the run uses it. Everything goes through ``PIP_*`` variables: a process's
environment is private to its user, its command line is not (``ps``), and
index URLs may carry credentials.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from crosspin.index import IndexSettings

__all__ = ["pip_environment"]


def pip_environment(settings: IndexSettings, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` (the process environment) without its ``PIP_*`` variables, plus ``settings``.

    ``PIP_CONFIG_FILE`` points to the null device, so no configuration file
    adds an index; an offline run or a lock without indexes gives
    ``PIP_NO_INDEX``.
    """
    env = {k: v for k, v in base.items() if not k.upper().startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    if settings.index_url and not settings.offline:
        env["PIP_INDEX_URL"] = settings.index_url
        if settings.extra_index_urls:
            env["PIP_EXTRA_INDEX_URL"] = " ".join(settings.extra_index_urls)
    else:
        env["PIP_NO_INDEX"] = "1"
    if settings.find_links:
        env["PIP_FIND_LINKS"] = " ".join(settings.find_links)
    if settings.trusted_hosts:
        env["PIP_TRUSTED_HOST"] = " ".join(settings.trusted_hosts)
    if settings.cert:
        env["PIP_CERT"] = settings.cert
    if settings.client_cert:
        env["PIP_CLIENT_CERT"] = settings.client_cert
    env["PIP_TIMEOUT"] = f"{settings.timeout:g}"
    return env
