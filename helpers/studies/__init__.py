"""Study-specific glue for the study notebooks (one module per study).

Each module holds the few data steps a study notebook needs that the shared
helpers do not provide (building a panel, joining names, a contrast with an
interval). Shared logic belongs in the shared modules; these stay small.

- :mod:`helpers.studies.common` - names and maps shared by the studies.
- :mod:`helpers.studies.coverage` - 01_coverage.
- :mod:`helpers.studies.participation` - 02_participation.
- :mod:`helpers.studies.satisfaction` - 03_satisfaction.
- :mod:`helpers.studies.drivers` - 04_drivers.
- :mod:`helpers.studies.spatial` - 05_spatial.
- :mod:`helpers.studies.index` - 06_index.
- :mod:`helpers.studies.profile` - district_profile.
- :mod:`helpers.studies.validation` - 90_validation.
"""
