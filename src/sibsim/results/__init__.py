"""The results Dataset: variable declarations, assembly and files."""

from sibsim.results.dataset import VARIABLES, Variable, assemble, to_years, write_netcdf

__all__ = ["VARIABLES", "Variable", "assemble", "to_years", "write_netcdf"]
