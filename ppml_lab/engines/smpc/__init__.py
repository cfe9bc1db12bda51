"""The secure multi-party computation pattern (MPyC): parties as real processes.

Kept empty on purpose: a party process imports ``ppml_lab.engines.smpc.party``, and everything
imported here would slow every party's start. The engine lives in :mod:`.pattern`.
"""
