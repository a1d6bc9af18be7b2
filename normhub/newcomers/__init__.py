"""A path for newcomers: a community's norms in force in the order to read them.

The ordering is the norms layer's (``normhub.norms.path``), a member's progress
the exposure ledger's (``normhub.exposure.path_progress``); this package serves
the page that shows both.
"""
