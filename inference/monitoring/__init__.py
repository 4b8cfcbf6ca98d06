"""Watching a served model: read its captured traffic (`captures`) and test it for drift (`drift`)."""
