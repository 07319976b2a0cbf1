"""The image catalogue's lineage, as the operator commands see it: a compact
index of the listing, the audit of every snapshot's ``base_image_ref``
chain, the backfill plan, and the journaled writes that apply or undo it.
"""
