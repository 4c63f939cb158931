"""Root conftest: pytester for plugin tests and hypothesis profiles."""

import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester"]

# "ci" runs more examples with no deadline (shared machines stall);
# "dev" is quick. Pick with HYPOTHESIS_PROFILE; CI sets nothing and gets "ci".
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("dev", max_examples=25, deadline=None, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
