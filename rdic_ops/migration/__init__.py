"""The model-migration engine behind `invoke migrate-model` (rdic_ops.ops.migrate_model is the operation).

values (what to look for), scan (the project's files), pyindex/context/loads/pyedit (Python with libcst),
textedit (every other text format, line-exact), edits (the plan of edits and the leftovers), journal
(backups, apply, recover, rollback), model (the new model as its own checklist item), probe (what loads).
"""
