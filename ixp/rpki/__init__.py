"""RPKI data: ROAs (VRPs) loaded from a validator's JSON export, replaced whole per load."""
