"""Object names as the API server checks them (Kubernetes' DNS rules) and KServe's stricter ones.

* most objects: a DNS-1123 subdomain (at most 253 lowercase letters, digits, '-' and '.', starting
  and ending with a letter or digit);
* namespaces, Services and other kinds whose name becomes a DNS label: a DNS-1123 label (at most
  63 characters, no '.'); Services even a DNS-1035 label (starting with a letter);
* InferenceServices: KServe's webhook wants a DNS-1035 label, and Knative names the first revision
  ``<name>-predictor-00001``, which must itself be a 63-character label: at most 47 characters.
"""

from __future__ import annotations

import re

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_MAX, SUBDOMAIN_MAX = 63, 253
ISVC_NAME_MAX = LABEL_MAX - len("-predictor-00001")

#: Kinds whose names must be DNS labels (the rest take subdomains).
_LABEL_KINDS = {"Namespace": DNS1123_LABEL, "Service": DNS1035_LABEL, "InferenceService": DNS1035_LABEL}
_RULES = {
    DNS1123_LABEL: "lowercase letters, digits and '-', starting and ending with a letter or digit",
    DNS1035_LABEL: "lowercase letters, digits and '-', starting with a letter and ending with a letter or digit",
    DNS1123_SUBDOMAIN: "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
}


def name_problem(kind: str, name: str) -> str | None:
    """Why ``name`` cannot name an object of ``kind`` (None when it can)."""
    pattern = _LABEL_KINDS.get(kind, DNS1123_SUBDOMAIN)
    limit = (
        ISVC_NAME_MAX
        if kind == "InferenceService"
        else (LABEL_MAX if pattern is not DNS1123_SUBDOMAIN else SUBDOMAIN_MAX)
    )
    if not pattern.match(name):
        return f"{name!r} is not a valid {kind} name: use {_RULES[pattern]}"
    if len(name) > limit:
        why = (
            " (Knative names its revision <name>-predictor-00001, a 63-character DNS label)"
            if kind == "InferenceService"
            else ""
        )
        return f"{name!r} is {len(name)} characters long: a {kind} name has at most {limit}{why}"
    return None
