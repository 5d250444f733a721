"""Per-group tables: each analysis run within every group of the grouping column (``group_by``)
and over all groups, one row per group, a group that cannot be analysed kept with its ``note``.

One module per family, beside the method module it applies (:mod:`premeta.groups.bias` applies
:mod:`premeta.bias`): :mod:`~premeta.groups.common` (the note policy, reading effects back),
:mod:`~premeta.groups.pooling`, :mod:`~premeta.groups.rows`, :mod:`~premeta.groups.moderators`,
:mod:`~premeta.groups.bias`, :mod:`~premeta.groups.rob`, :mod:`~premeta.groups.sensitivity`,
:mod:`~premeta.groups.multiverse_analysis`, :mod:`~premeta.groups.flow` (the flow of records),
:mod:`~premeta.groups.changes` (what changed between two runs), :mod:`~premeta.groups.sex` (sex as
a biological variable, beside :mod:`premeta.contrasts`), :mod:`~premeta.groups.planning` (the next
experiment, beside :mod:`premeta.planning`).
"""
