"""project_lock: one apply or rollback at a time on a project, whatever the migration."""

import pytest

from rdic_ops.errors import StepFailed
from rdic_ops.migration.project_lock import exclusive


def test_a_second_holder_is_refused_and_the_lock_is_released_after(tmp_path):
    project, other = tmp_path / "p", tmp_path / "q"
    with exclusive(tmp_path / "migrations", project):
        with pytest.raises(StepFailed, match=f"another migrate-model is changing {project} right now"):
            with exclusive(tmp_path / "migrations", project):
                pass
        with exclusive(tmp_path / "migrations", other):  # another project: its own lock
            pass
    with exclusive(tmp_path / "migrations", project):  # released when the first ended
        pass
    assert [p.suffix for p in (tmp_path / "migrations").iterdir()] == [".lock", ".lock"]
