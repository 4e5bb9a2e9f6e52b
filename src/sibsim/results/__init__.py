"""The results Dataset: variable declarations and the input check, assembly and files."""

from sibsim.results.dataset import assemble, provenance, to_years
from sibsim.results.io import check_output, write_netcdf
from sibsim.results.schema import (
    DEFAULT_CURRENCY,
    TIME_DIMS,
    VARIABLES,
    Variable,
    currency,
    labels,
    require,
    require_label,
    require_labels,
    to_numpy,
)

__all__ = ["DEFAULT_CURRENCY", "TIME_DIMS", "VARIABLES", "Variable", "assemble",
           "check_output", "currency", "labels", "provenance", "require", "require_label",
           "require_labels", "to_numpy", "to_years", "write_netcdf"]
