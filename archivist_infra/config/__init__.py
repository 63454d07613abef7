"""Stack config in, typed `Settings` out: every `archivist:` key is read here through `ConfigReader`.

Every problem is reported at once with the key as users type it and the fix, before any resource
is registered. `reference.py` turns the same getter calls into docs/configuration.md and the
`config:` schema in Pulumi.yaml.
"""
