"""The data: its contract (:mod:`~helpers.data.schema`), a folder's study period
(:mod:`~helpers.data.period`), reading one table file (:mod:`~helpers.data.reader`) and checking it
on its own (:mod:`~helpers.data.table_checks`), checking a folder (:mod:`~helpers.data.validate`),
loading tables through the contract (:mod:`~helpers.data.load`), the project's concepts defined once
(:mod:`~helpers.data.concepts`), metadata and planted truth (:mod:`~helpers.data.truth`), the codebook
(:mod:`~helpers.data.codebook`), the synthetic city (:mod:`~helpers.data.synth`), real Chinese
boundaries (:mod:`~helpers.data.boundaries`) and importing the files people have (Excel, GBK CSV)
into a contract folder (:mod:`~helpers.data.importing`)."""
