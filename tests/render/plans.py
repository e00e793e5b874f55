"""Plans shared by the render, safety and plan-JSON tests."""

from __future__ import annotations

from reconciler.plan import Plan
from reconciler.planner import build_plan
from tests.builders import live, manifest

TAGS = [{"id": 300 + i, "name": f"tag-{i}"} for i in range(12)]


def pruning(max_deletes: int = 10, max_change_percent: float = 30.0, keep: int = 0) -> Plan:
    """A plan that prunes 12 - keep of 12 live tags (deletes are destructive removals)."""
    m = manifest(prune={"candidate_tags": "enforce"}, max_deletes=max_deletes, max_change_percent=max_change_percent,
                 candidate_tags=[f"tag-{i}" for i in range(keep)])
    return build_plan(m, live(candidate_tags=TAGS))


def large(tags: int = 5_000, users: int = 40, jobs: int = 12) -> Plan:
    """`tags` tags to create, plus for each of `users` live users grants on `jobs` jobs: the first half
    of the jobs granted (create), one role change, one grant removed (delete), and future grants."""
    from tests.builders import dept, job, user

    job_rows = [job(400 + j, f"Job {j}", f"REQ-{1000 + j}") for j in range(jobs)]
    people = [user(2000 + u, f"user{u}@acme.example") for u in range(users)]
    grants = []
    for u in range(users):
        grants.append({"id": 50_000 + 10 * u, "user_id": 2000 + u, "job_id": 400 + jobs - 1, "role_id": 3})
        grants.append({"id": 50_001 + 10 * u, "user_id": 2000 + u, "job_id": 400 + jobs - 2, "role_id": 3})
    future = [{"id": 70_000 + u, "user_id": 2000 + u, "role_id": 3, "department_id": 10, "office_id": None}
              for u in range(users)]
    wanted = [
        {"email": f"user{u}@acme.example",
         "job_permissions": [{"job": f"REQ-{1000 + j}", "role": "Standard"} for j in range(jobs // 2)]
                            + [{"job": f"REQ-{1000 + jobs - 2}", "role": "Standard"}],
         "future_job_permissions": [{"role": "Standard", "department": "Engineering"}]}
        for u in range(users)
    ]
    m = manifest(candidate_tags=[f"tag-{i}" for i in range(tags)], users=wanted)
    state = live(users=people, jobs=job_rows, user_job_permissions=grants, future_job_permissions=future,
                 departments=[dept(10, "Engineering")])
    return build_plan(m, state)
