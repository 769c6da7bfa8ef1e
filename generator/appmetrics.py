"""The old spelling of the business metrics' home, kept so existing imports work.

The metrics live in `raymontology_metrics` (appmetrics/ in this repository), which the
backend installs on its own with prometheus-client as its only dependency; import them from
there. This module hands out the very same objects, so nothing is registered twice.
"""

from raymontology_metrics import *  # noqa: F401,F403
from raymontology_metrics import __all__  # noqa: F401
