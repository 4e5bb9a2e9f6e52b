"""The results Dataset: variable declarations and the input check, assembly and files."""

from sibsim.results.dataset import assemble, to_years, write_netcdf
from sibsim.results.schema import (
    TIME_DIMS,
    VARIABLES,
    Variable,
    labels,
    require,
    require_label,
    require_labels,
    to_numpy,
)

__all__ = ["TIME_DIMS", "VARIABLES", "Variable", "assemble", "labels", "require", "require_label",
           "require_labels", "to_numpy", "to_years", "write_netcdf"]
