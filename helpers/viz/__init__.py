"""Figures: the project's one style (:mod:`~helpers.viz.style`) and its maps (:mod:`~helpers.viz.maps`).

The maps lean on four small modules: :mod:`~helpers.viz.classes` (class breaks
rounded to the legend's precision), :mod:`~helpers.viz.inset` (insets that
enlarge units too small to see), :mod:`~helpers.viz.labels` (labels that never
overlap) and :mod:`~helpers.viz.alt` (alt text: ``fig._helpers_alt``).
"""
