"""Adapters: one package per outside thing, each implementing ports of ``application``."""
