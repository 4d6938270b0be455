"""One module per rule; every module here is imported by `rule.all_rules()` (see ../RULES_HOWTO.md)."""
