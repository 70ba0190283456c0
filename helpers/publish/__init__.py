"""Publishing: safe tables and text (:mod:`~helpers.publish.report`), disclosure control
(:mod:`~helpers.publish.disclosure`), recorded findings (:mod:`~helpers.publish.findings`), provenance
(:mod:`~helpers.publish.provenance`), notebook set-up (:mod:`~helpers.publish.notebook`), the report
build (:mod:`~helpers.publish.build`) and the reproduction check (:mod:`~helpers.publish.verify`)."""
