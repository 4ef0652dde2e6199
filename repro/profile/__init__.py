"""Profiles (``profiles/<name>.yaml``): how to reach an environment and what to capture.

:mod:`repro.profile.file` reads the file and its sections; :mod:`repro.profile.facets` is the
grammar of a facet's options (the snapshot facets declare theirs with it);
:mod:`repro.profile.sandbox` is the ``sandbox:`` section ``repro replay`` reads.
"""
