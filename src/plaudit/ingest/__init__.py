"""Inbound data: sources, verification, raw requests, templates, records, rejects, replay.

One pipeline (`pipeline.IngestPipeline.receive`) takes a raw request from a push URL or,
later, a batch from a puller, and turns it into loaded, rejected or duplicate records.
"""
