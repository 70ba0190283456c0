"""Statistics, generic: no module here names a notebook, a claim or a district.

Rates with intervals (:mod:`~helpers.stats.rates`), design-based survey estimation
(:mod:`~helpers.stats.survey`, :mod:`~helpers.stats.likert`), small-area estimation
(:mod:`~helpers.stats.smallarea`), funnel plots and rank intervals (:mod:`~helpers.stats.compare`),
composite indices (:mod:`~helpers.stats.composite`), regression models (:mod:`~helpers.stats.models`),
staggered difference-in-differences (:mod:`~helpers.stats.eventstudy`), mediation
(:mod:`~helpers.stats.mediation`), spatial autocorrelation (:mod:`~helpers.stats.spatial`) and service
access (:mod:`~helpers.stats.access`)."""
