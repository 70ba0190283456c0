"""The data: its contract (:mod:`~helpers.data.schema`), checking a folder against it
(:mod:`~helpers.data.validate`), loading tables through it (:mod:`~helpers.data.load`), the codebook
(:mod:`~helpers.data.codebook`), the synthetic city (:mod:`~helpers.data.synth`), real Chinese
boundaries (:mod:`~helpers.data.boundaries`) and importing the files people have (Excel, GBK CSV)
into a contract folder (:mod:`~helpers.data.importing`)."""
