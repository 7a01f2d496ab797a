"""KOReader's side of the sync: sidecar files, their locations, ``history.lua`` and the Lua codec."""

from adapters.koreader.library import SidecarLibrary

__all__ = ["SidecarLibrary"]
