"""Worked cases that run the map and spatial helpers end to end.

- :mod:`helpers.studies.cases.sids`: North Carolina SIDS counties (real data shipped with libpysal).
- :mod:`helpers.studies.cases.city`: the default (synthetic) city.
"""
