"""Shared helpers for the district public-service research notebooks.

Modules are split by concern (see README.md): the data contract and loading
(:mod:`helpers.data.schema`, :mod:`helpers.data.validate`, :mod:`helpers.data.load`), the
synthetic city (:mod:`helpers.data.synth`), rates and survey estimation
(:mod:`helpers.stats.rates`, :mod:`helpers.stats.survey`), comparison of units, the composite
index, models, spatial statistics, service access, maps, findings and the
report build.
"""
__version__ = "0.1.0"
