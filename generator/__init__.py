"""dashgen: dashboards and alert rules as code.

The library renders, checks and ships what a project (`monitoring/`, `dashboards/`,
`alerts/`, `synthetics/`) defines; it holds no project data and never imports a
project itself (see `generator.loader` and `generator.project`).
"""

__version__ = "0.1.0"

from generator import _bytecode

_bytecode.install()  # dashgen's own bytecode from the user's cache when Python writes none
