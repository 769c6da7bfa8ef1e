"""Text made safe to show in a terminal: the one sanitiser for everything the CLI prints.

Titles, names, uids, paths and server messages come from input, and a terminal obeys what
they hold: `ESC ] 0 ; ... BEL` retitles the window, other escape sequences move the cursor,
rewrite lines or (on some terminals) write files; a carriage return hides what came before
it on the line; bidi overrides make text read differently from what it is. `printable()`
writes every such character as a `\\uXXXX` escape (valid inside a JSON string too, so JSON
output stays valid and means the same); newlines and tabs, which the CLI means, stay.
"""

from __future__ import annotations

import re

#: C0 controls but tab and newline, DEL, C1 controls, bidi marks, embeddings, overrides and
#: isolates, line and paragraph separators, and the byte-order mark.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def printable(text: str) -> str:
    """`text` with every character a terminal would act on written as `\\uXXXX`."""
    return UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
