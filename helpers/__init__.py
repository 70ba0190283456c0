"""Shared helpers for the district public-service research notebooks.

Modules are split by concern (see README.md): the data contract and loading
(:mod:`helpers.schema`, :mod:`helpers.validate`, :mod:`helpers.load`), the
synthetic city (:mod:`helpers.synth`), rates and survey estimation
(:mod:`helpers.rates`, :mod:`helpers.survey`), comparison of units, the composite
index, models, spatial statistics, service access, maps, findings and the
report build.
"""
__version__ = "0.1.0"
