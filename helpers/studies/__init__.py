"""Study-specific glue for the study notebooks (one module per study).

Each module holds the few data steps a study notebook needs that the shared
helpers do not provide (building a panel, joining names, a contrast with an
interval). Shared logic belongs in the shared modules; these stay small.

- :mod:`helpers.studies.common` - names and maps shared by the studies.
- :mod:`helpers.studies.overview` - 00_data_overview.
- :mod:`helpers.studies.coverage` - 01_coverage.
- :mod:`helpers.studies.participation` - 02_participation.
- :mod:`helpers.studies.satisfaction` - 03_satisfaction.
- :mod:`helpers.studies.drivers` - 04_drivers.
- :mod:`helpers.studies.spatial` - 05_spatial.
- :mod:`helpers.studies.index` - 06_index.
- :mod:`helpers.studies.profile` - district_profile.
- :mod:`helpers.studies.validation` - 90_validation.
"""
from __future__ import annotations

#: The tables each study (notebook) cannot do without. A study whose required tables a data folder lacks is
#: skipped (optional tables: :data:`helpers.data.schema.OPTIONAL_TABLES`); tables a study uses only in some
#: sections are not listed, and those sections say so when the table is absent.
REQUIRES: dict[str, tuple[str, ...]] = {
    "00_data_overview": ("districts", "subdistricts", "community_boundaries", "communities"),  # describes
    # every table the folder has; the survey section says so when the survey is absent
    "01_coverage": ("districts", "subdistricts", "community_boundaries", "communities", "organisations"),  # the
    # platform, members and service points are used when present (their sections say so when absent)
    "02_participation": ("districts", "community_boundaries", "communities", "members"),  # joint building and
    # the survey are used when present (their sections say so when absent)
    "03_satisfaction": ("districts", "subdistricts", "community_boundaries", "communities", "survey"),  # the
    # assessment scores feed claim 6 alone (its section says so when they are absent), the census margins the
    # calibration section
    "04_drivers": ("community_boundaries", "communities"),  # each claim is tested when the data have the
    # tables it needs (its `tables` in helpers.studies.claims); a claim without them says so and is skipped
    "05_spatial": ("districts", "subdistricts", "community_boundaries", "communities"),  # members, organisations
    # and the survey each feed their own sections (registration, coverage, satisfaction), which say so when absent
    "06_index": ("districts", "community_boundaries", "communities", "survey"),  # the survey is the satisfaction
    # pillar's only source; an absent organisations, service_points, members or joint_building table leaves its
    # indicators out of the index (the report says which), an absent assessment its comparison section
    "90_validation": (),
    "district_profile": ("districts", "subdistricts", "community_boundaries", "communities", "members"),
    # organisations and the survey are used when present (the profile says which measures are absent)
}


def needing(table: str) -> list[str]:
    """The studies that need ``table`` (skipped when the data folder lacks it), in :data:`REQUIRES` order."""
    return [study for study, tables in REQUIRES.items() if table in tables]


def missing_tables(study: str, available) -> list[str]:
    """The tables ``study`` needs that are not in ``available`` (e.g. :func:`helpers.data.load.available_tables`)."""
    have = set(available)
    return [t for t in REQUIRES[study] if t not in have]
