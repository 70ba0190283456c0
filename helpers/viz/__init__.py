"""Figures: the project's one style (:mod:`~helpers.viz.style`) and its maps (:mod:`~helpers.viz.maps`)."""
