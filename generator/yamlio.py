"""The one way dashgen reads YAML: safe types only, and no anchors or aliases.

An alias repeats a node by reference, so a kilobyte of nested aliases (a "billion laughs")
expands to gigabytes as soon as anything walks the result. dashgen never writes anchors or
aliases (its dumps spell every value out), so a file that holds one did not come from
dashgen and is refused before anything is built from it:

    doc = yamlio.safe_load(text)     # like yaml.safe_load; raises NotAccepted (a YAMLError)

Every error is a yaml.YAMLError, so callers report it like any malformed file, naming it.
"""

from __future__ import annotations

import yaml
from yaml.composer import ComposerError
from yaml.events import AliasEvent


YAMLError = yaml.YAMLError  # what every failure here is


class NotAccepted(ComposerError):
    """YAML that parses but that dashgen refuses to build: anchors, aliases, deep nesting."""


class _Loader(yaml.SafeLoader):
    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            kind = "alias" if isinstance(event, AliasEvent) else "anchor"
            raise NotAccepted(None, None, f"found the {kind} {event.anchor!r}: YAML anchors and aliases are "
                              "not accepted (dashgen never writes them; expanded, a few lines of them "
                              "can fill the memory)", event.start_mark)
        return super().compose_node(parent, index)


def safe_load(stream):
    """`yaml.safe_load(stream)` without anchors and aliases (NotAccepted) and without a
    RecursionError for absurd nesting (NotAccepted too)."""
    try:
        return yaml.load(stream, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise NotAccepted(None, None, "nested too deep to read", None) from None
