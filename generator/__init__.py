"""dashgen: Raymontology's dashboards and alert rules as code.

The library renders, checks and ships what `dashboards/` and `alerts/` define;
it never imports those definitions itself (see `generator.loader`).
"""

__version__ = "0.1.0"
