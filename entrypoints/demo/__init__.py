"""kksync demo, and the builders of sample Kobo devices and books that the demo and the tests share.

They live here, outside adapters/, because nothing that syncs a real device uses them.
"""
