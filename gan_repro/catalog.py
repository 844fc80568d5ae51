"""Every registered entry of the library, for the runner, the CLI and the tests.

Importing this module imports the packages that register networks (:mod:`gan_repro.models`),
families (:mod:`gan_repro.training`), datasets, evaluators, figures and hooks; each of them
imports only :mod:`gan_repro.registry` to register, so there is no import cycle. An experiment's
own hooks module is imported by the runner from its declaration.
"""

from __future__ import annotations

import gan_repro.data.registered  # noqa: F401  (DATASETS)
import gan_repro.hooks  # noqa: F401  (HOOKS)
import gan_repro.metrics.evaluators  # noqa: F401  (EVALUATORS)
import gan_repro.models  # noqa: F401  (NETWORKS)
import gan_repro.report  # noqa: F401  (REPORTS)
import gan_repro.toy_ring  # noqa: F401  (the toy ring's DATASETS, EVALUATORS, FIGURES)
import gan_repro.training  # noqa: F401  (FAMILIES)
import gan_repro.viz.coupled  # noqa: F401  (FIGURES)
import gan_repro.viz.figures  # noqa: F401  (FIGURES)
import gan_repro.viz.translation  # noqa: F401  (FIGURES)
import gan_repro.viz.unpaired  # noqa: F401  (FIGURES)
from gan_repro.registry import (
    DATASETS,
    EVALUATORS,
    FAMILIES,
    FIGURES,
    HOOKS,
    NETWORKS,
    REPORTS,
)

__all__ = ["DATASETS", "EVALUATORS", "FAMILIES", "FIGURES", "HOOKS", "NETWORKS", "REPORTS"]
