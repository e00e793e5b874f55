"""Users, their per-job grants and their future-job grants.

* Identity: email, case-insensitively, against the primary email and then every verified email; then
  `employee_id`. Users cannot be deleted: `active: false` deactivates (reversible, counted as a removal).
* `site_admin: true` cannot be granted through the API (an error); `false` on a live site admin revokes
  (destructive: the API also deletes the user's job permissions).
* PATCH replaces `office_ids`/`department_ids` wholesale, so the full desired set is always sent.
* Job permissions: `job_permissions` is the exact set of *hand-made* grants. Grants that Greenhouse makes
  by itself from a future job permission (rows with `automated: true`) are Greenhouse's: never deleted,
  never drift, listed in the plan as Greenhouse-managed; one on the job and role the manifest lists
  satisfies that grant. Site admins are absent from the permission lists by design and get 204 no-ops on
  grants, so their `job_permissions` are not planned (a warning says so).
* A role change on one job is one update: create the new grant, then delete the old one, so the user never
  loses access; whether Greenhouse accepts two grants on one job is undocumented [inferred: one-grant-per-job],
  so the change carries
  `fallback="delete_first"` (on a duplicate-grant 422 the executor deletes first and creates again). Grants
  on new jobs/scopes are created before old ones are removed.
* Live permission rows are grouped by user once per plan (an org has tens of thousands of grants).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from reconciler.manifest.model import Entry
from reconciler.plan import Change, FieldChange, Settle, Write
from reconciler.planner.context import Context, Handle, path_ref, ref, suggestion

PATH = "/v3/users"
UJP = "/v3/user_job_permissions"
FJP = "/v3/future_job_permissions"

#: Said on every future-permission delete (documented on delete_v3-future-job-permissions-id).
FUTURE_DELETE_KEEPS = ("jobs that already granted the user this role through it keep those automated grants: "
                       '"Previously-created jobs that already granted the user a role via this permission are not '
                       'affected" (Greenhouse)')


def plan_users(ctx: Context) -> None:
    live = ctx.live_rows("users")
    by_email: dict[str, list[int]] = defaultdict(list)
    by_secondary: dict[str, list[int]] = defaultdict(list)
    by_employee: dict[str, list[int]] = defaultdict(list)
    for uid, row in live.items():
        primary = str(row.get("primary_email") or "").lower()
        if not primary:  # a service account (primary_email "" [2nd]): never matched, listed or changed
            continue
        by_email[primary].append(uid)
        for e in row.get("emails") or []:
            if str(e).lower() != primary:
                by_secondary[str(e).lower()].append(uid)
        if row.get("employee_id"):
            by_employee[str(row["employee_id"])].append(uid)

    claimed: dict[int, Entry] = {}
    for entry in ctx.entries("users"):
        data = entry.data
        email = str(data["email"])
        candidates = by_email.get(email.lower()) or by_secondary.get(email.lower()) or []
        if not candidates and data.get("employee_id"):
            candidates = by_employee.get(str(data["employee_id"]), [])
        if len(set(candidates)) > 1:
            ctx.problem(entry.source, f'"{email}" matches {len(set(candidates))} live users (ids {sorted(set(candidates))})')
            continue
        live_id = candidates[0] if candidates else None
        if live_id is not None and live_id in claimed:
            ctx.problem(entry.source, f"matches the same live user (id {live_id}) as {claimed[live_id].source}")
            continue
        if live_id is None:
            handle: Handle | None = _create(ctx, entry)
            site_admin = False
        else:
            claimed[live_id] = entry
            handle, site_admin = _update(ctx, entry, live[live_id])
        if handle is None:
            continue
        if site_admin:
            # Site admins are absent from the permission lists and grants to them are 204 no-ops [seed]:
            # empty lists agree with the API; any grant listed would show as drift forever, so say so.
            if data.get("job_permissions") or data.get("future_job_permissions"):
                ctx.warn(f"{entry.source}: {email} is a site admin: job permissions are implicit, so "
                         "job_permissions/future_job_permissions are not planned")
            continue
        if "job_permissions" in data:
            _plan_job_permissions(ctx, entry, handle)
        if "future_job_permissions" in data:
            _plan_future_permissions(ctx, entry, handle)

    if "users" in ctx.manifest.present and ctx.prune_mode("users") != "off":
        for uid, row in sorted(live.items()):
            if uid not in claimed and row.get("primary_email"):
                ctx.add_unmanaged("user", str(row.get("primary_email")), uid)


def _ids(ctx: Context, entry: Entry, key: str, kind: str) -> tuple[list[Any], list[str]] | None:
    """Resolve a list of department/office names; None when any failed (problems recorded)."""
    handles: list[Handle] = []
    for pos, name in enumerate(entry.data[key]):
        h = ctx.resolve(kind, name, entry.at(f"{key}[{pos}]"))
        if h is None:
            return None
        handles.append(h)
    index = ctx.indices[kind]
    ordered = sorted(set(handles), key=lambda h: (isinstance(h, str), str(h) if isinstance(h, str) else h))
    return [ref(h) for h in ordered], sorted(str(index.display(h)) for h in set(handles))


def _names(ctx: Context, kind: str, ids: Any) -> list[str]:
    index = ctx.indices[kind]
    return sorted(str(index.display(int(i))) for i in ids or [])


def _profile(ctx: Context, entry: Entry) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Desired profile fields: (manifest name -> shown value, api name -> value)."""
    data = entry.data
    shown: dict[str, Any] = {}
    api: dict[str, Any] = {}
    for key in ("first_name", "last_name", "employee_id", "job_title"):
        if key in data:
            shown[key] = data[key]
            api[key] = data[key]
    for key, kind in (("offices", "office"), ("departments", "department")):
        if key in data:
            got = _ids(ctx, entry, key, kind)
            if got is None:
                return None
            api[f"{kind}_ids"], shown[key] = got
    return shown, api


def _create(ctx: Context, entry: Entry) -> Handle | None:
    data = entry.data
    email = str(data["email"])
    missing = [k for k in ("first_name", "last_name") if not data.get(k)]
    if missing:
        ctx.problem(entry.source, f'user "{email}" does not exist in Greenhouse; creating it needs {" and ".join(missing)}')
        return None
    if data.get("site_admin") is True:
        ctx.problem(entry.at("site_admin"), "site_admin: true cannot be granted through the Harvest API")
        return None
    got = _profile(ctx, entry)
    if got is None:
        return None
    shown, api = got
    key = f"user:{email.lower()}"
    body = {"first_name": data["first_name"], "last_name": data["last_name"], "primary_email": email}
    if "employee_id" in api:
        body["employee_id"] = api["employee_id"]
    settle = Settle(PATH, {"primary_email": email}, {"primary_email": email})
    writes = [Write("POST", PATH, body, settle)]
    # POST /v3/users documents only names, email and employee_id [seed]: the rest follows as a PATCH.
    rest = {k: v for k, v in api.items() if k not in body and k not in ("first_name", "last_name")}
    if rest:
        writes.append(Write("PATCH", f"{PATH}/{path_ref(key)}", rest,
                            Settle(PATH, {"primary_email": email}, {"primary_email": email, **rest})))
    fields = {"email": FieldChange(None, email), **{k: FieldChange(None, v) for k, v in shown.items()}}
    if data.get("active") is False:
        writes.append(Write("POST", f"{PATH}/{path_ref(key)}/deactivate", None,
                            Settle(PATH, {"primary_email": email}, {"primary_email": email, "deactivated": True})))
        fields["active"] = FieldChange(None, False)
    ctx.add("user", Change("create", "user", email, key, fields=fields, writes=tuple(writes)))
    return key


def _update(ctx: Context, entry: Entry, row: Mapping[str, Any]) -> tuple[Handle | None, bool]:
    """Plan one matched user's changes. Returns (handle or None on problems, is a site admin after apply)."""
    data = entry.data
    live_id = int(row["id"])
    email = str(data["email"])
    got = _profile(ctx, entry)
    if got is None:
        return None, False
    shown, api = got
    fields: dict[str, FieldChange] = {}
    body: dict[str, Any] = {}
    reasons: list[str] = []
    for key, value in api.items():
        before = row.get(key)
        same = sorted(int(i) for i in before or []) == value if key.endswith("_ids") else before == value
        if not same:
            name = {"office_ids": "offices", "department_ids": "departments"}.get(key, key)
            shown_before = _names(ctx, name[:-1], before) if key.endswith("_ids") else before
            fields[name] = FieldChange(shown_before, shown[name])
            body[key] = value
    primary = str(row.get("primary_email") or "")
    if primary.lower() != email.lower():
        verified = {str(e).lower() for e in row.get("emails") or []}
        if email.lower() in verified:
            fields["email"] = FieldChange(primary, email)
            body["primary_email"] = email
            reasons.append("primary email moves to a verified address")
        else:
            ctx.warn(f"{entry.source}: {primary} cannot become {email}: the new address must first be added and "
                     "verified as a secondary email (POST /v3/user_emails); not planned")
    writes: list[Write] = []
    if body:
        settle = Settle(PATH, {"ids": [live_id]}, {"id": live_id, **body})
        writes.append(Write("PATCH", f"{PATH}/{live_id}", body, settle, bulk=f"PATCH {PATH}/bulk",
                            bulk_item={"id": live_id, **body}))
    removal = destructive = False
    site_admin = bool(row.get("site_admin"))
    protected = ctx.protected("users", primary, email)
    if "active" in data and bool(data["active"]) == bool(row.get("deactivated")):
        if data["active"]:
            fields["active"] = FieldChange(False, True)
            writes.append(_action(live_id, "activate", {"deactivated": False}))
            reasons.append("reactivated")
        elif protected:
            ctx.warn(f"user {email} is protected: not deactivated")
        else:
            fields["active"] = FieldChange(True, False)
            writes.append(_action(live_id, "deactivate", {"deactivated": True}))
            reasons.append("deactivated (reversible; permissions are kept)")
            removal = True
    if "site_admin" in data and bool(data["site_admin"]) != site_admin:
        if data["site_admin"]:
            ctx.problem(entry.at("site_admin"), f"{email} is not a site admin, and site_admin: true cannot be "
                        "granted through the Harvest API (grant it in Greenhouse)")
            return None, False
        if protected:
            ctx.warn(f"user {email} is protected: site admin not revoked")
        else:
            fields["site_admin"] = FieldChange(True, False)
            writes.insert(0, _action(live_id, "revoke_permissions", {"site_admin": False}))
            reasons.append("site admin revoked: the API also deletes the user's job permissions")
            removal = destructive = True
            site_admin = False
    if not writes:
        ctx.same("user")
    else:
        ctx.add("user", Change("update", "user", email, f"user:{live_id}", live_id, destructive=destructive,
                               removal=removal, fields=fields, reasons=tuple(reasons), writes=tuple(writes)))
    return live_id, site_admin


def _action(live_id: int, verb: str, result: Mapping[str, Any]) -> Write:
    settle = Settle(PATH, {"ids": [live_id]}, {"id": live_id, **result})
    return Write("POST", f"{PATH}/{live_id}/{verb}", None, settle, bulk=f"POST {PATH}/{verb}/bulk", bulk_item=live_id)


# -- per-job grants ----------------------------------------------------------------------------------


def _role(ctx: Context, name: Any, entry: Entry, where: str) -> int | None:
    roles = ctx.live_rows("user_roles")
    found = list(ctx.rows_by("user_roles", "name").get(name, ()))
    if len(found) != 1:
        what = "unknown" if not found else "ambiguous"
        job_admin = [str(r.get("name")) for r in roles.values() if r.get("role_type") == "job_admin"]
        ctx.problem(entry.at(where), f'{what} role "{name}"{suggestion(str(name), job_admin)}')
        return None
    if roles[found[0]].get("role_type") != "job_admin":
        ctx.problem(entry.at(where), f'role "{name}" is a {roles[found[0]].get("role_type")} role; '
                    "job permissions need a job_admin role")
        return None
    return found[0]


def _job(ctx: Context, value: Any, entry: Entry, where: str) -> int | None:
    """Resolve a job id, requisition id or name to one job id.

    Job ids that live permission rows reference resolve too: a confidential job is missing from the jobs
    list even for site admins [seed], but an id that a live grant names exists.
    """
    jobs = ctx.live_rows("jobs")
    text = str(value)
    as_id = int(text) if text.isdigit() and str(int(text)) == text else None
    found = {as_id} if as_id is not None and as_id in jobs else set()
    found |= set(ctx.rows_by("jobs", "requisition_id").get(text, ())) | set(ctx.rows_by("jobs", "name").get(text, ()))
    if not found and text.isdigit() and int(text) in ctx.rows_by("user_job_permissions", "job_id"):
        return int(text)
    if len(found) == 1:
        return next(iter(found))
    if not found:
        names = [str(j.get("requisition_id")) for j in jobs.values() if j.get("requisition_id")]
        names += [str(j.get("name")) for j in jobs.values()]
        ctx.problem(entry.at(where), f'unknown job "{text}"{suggestion(text, names)}')
    else:
        shown = ", ".join(f'{jobs[i].get("name")} (id {i})' for i in sorted(found))
        ctx.problem(entry.at(where), f'ambiguous job "{text}": it matches {len(found)} jobs: {shown}; use the job id')
    return None


def _job_name(ctx: Context, job_id: int) -> str:
    job = ctx.live_rows("jobs").get(job_id, {})
    return str(job.get("requisition_id") or job.get("name") or job_id)


def _role_name(ctx: Context, role_id: Any) -> str:
    return str(ctx.live_rows("user_roles").get(int(role_id), {}).get("name", role_id))


def _plan_job_permissions(ctx: Context, entry: Entry, user: Handle) -> None:
    """Plan the user's hand-made grants: `job_permissions` is their exact set; automated rows are left alone."""
    email = str(entry.data["email"])
    desired: dict[int, int] = {}
    for pos, grant in enumerate(entry.data["job_permissions"]):
        job = _job(ctx, grant["job"], entry, f"job_permissions[{pos}].job")
        role = _role(ctx, grant["role"], entry, f"job_permissions[{pos}].role")
        if job is not None and role is not None:
            desired[job] = role
    rows = ctx.live_rows("user_job_permissions")
    hand_made: dict[int, tuple[int, int]] = {}
    automated: dict[int, list[tuple[int, int]]] = defaultdict(list)
    if isinstance(user, int):
        for row_id in ctx.rows_by("user_job_permissions", "user_id").get(user, ()):
            r = rows[row_id]
            if r.get("automated") is True:
                automated[int(r["job_id"])].append((row_id, int(r["role_id"])))
            else:
                hand_made[int(r["job_id"])] = (row_id, int(r["role_id"]))
    for job_id, grants in sorted(automated.items()):
        for row_id, role_id in grants:
            listed = " It also satisfies the grant the manifest lists." if desired.get(job_id) == role_id else ""
            ctx.add_greenhouse_managed(
                "user_job_permission", f"{email} on {_job_name(ctx, job_id)}", row_id,
                f"automated grant of role {_role_name(ctx, role_id)}, made by Greenhouse from a future job "
                f"permission: never deleted, exported or counted as drift.{listed}")

    superseded: dict[int, str] = {}
    for job_id, role_id in sorted(desired.items()):
        before = hand_made.get(job_id)
        by_greenhouse = [row_id for row_id, role in automated.get(job_id, []) if role == role_id]
        if before is not None and before[1] == role_id:
            ctx.same("user_job_permission")
            continue
        if by_greenhouse:
            ctx.same("user_job_permission")
            if before is not None:
                superseded[job_id] = (f"role {_role_name(ctx, role_id)} on this job is granted by Greenhouse's automated "
                                      f"grant (id {by_greenhouse[0]}), which the manifest's grant accepts")
            continue
        name = f"{email} on {_job_name(ctx, job_id)}"
        body = {"user_id": ref(user), "job_id": job_id, "role_id": role_id}
        create = Write("POST", UJP, body, Settle(UJP, {"user_ids": [ref(user)]}, dict(body)))
        if before is not None:
            ctx.add("user_job_permission", _change_role(ctx, name, before, role_id, create))
            continue
        others = [f"{_role_name(ctx, role)} (id {row_id})" for row_id, role in automated.get(job_id, [])]
        reasons = (f"an automated grant on this job stays as it is (Greenhouse's): {', '.join(others)}",) if others else ()
        ctx.add("user_job_permission", Change(
            "create", "user_job_permission", name, f"user_job_permission:{user}:{job_id}",
            fields={"role": FieldChange(None, _role_name(ctx, role_id))}, reasons=reasons, writes=(create,)))
    for job_id, before in sorted(hand_made.items()):
        if job_id not in desired:
            ctx.add("user_job_permission_delete", _delete_grant(ctx, email, job_id, before, "not in the manifest"))
        elif job_id in superseded:
            ctx.add("user_job_permission_delete", _delete_grant(ctx, email, job_id, before, superseded[job_id]))


def _change_role(ctx: Context, name: str, before: tuple[int, int], role_id: int, create: Write) -> Change:
    """One update: create the grant with the new role, then delete the old row (falling back to delete first)."""
    row_id, role_before = before
    delete = Write("DELETE", f"{UJP}/{row_id}", None, Settle(UJP, {"ids": [row_id]}, {"id": row_id}, "absent"))
    reasons = (
        f"role changes from {_role_name(ctx, role_before)} to {_role_name(ctx, role_id)}: the new grant is created "
        "first, then the old one is deleted, so the user keeps access to the job throughout",
        "if Greenhouse refuses a second grant on the same job (a duplicate-grant 422), the old grant is deleted "
        "first and the new one created again",
    )
    return Change("update", "user_job_permission", name, f"user_job_permission:{row_id}", row_id,
                  fields={"role": FieldChange(_role_name(ctx, role_before), _role_name(ctx, role_id))},
                  reasons=reasons, writes=(create, delete), fallback="delete_first")


def _delete_grant(ctx: Context, email: str, job_id: int, live: tuple[int, int], reason: str) -> Change:
    row_id, role_id = live
    settle = Settle(UJP, {"ids": [row_id]}, {"id": row_id}, "absent")
    return Change("delete", "user_job_permission", f"{email} on {_job_name(ctx, job_id)}",
                  f"user_job_permission:{row_id}", row_id, removal=True,
                  fields={"role": FieldChange(_role_name(ctx, role_id), None)}, reasons=(reason,),
                  writes=(Write("DELETE", f"{UJP}/{row_id}", None, settle),))


# -- future-job grants ---------------------------------------------------------------------------------


def _plan_future_permissions(ctx: Context, entry: Entry, user: Handle) -> None:
    email = str(entry.data["email"])
    desired: dict[tuple[int, Handle | None, Handle | None], None] = {}
    for pos, grant in enumerate(entry.data["future_job_permissions"]):
        role = _role(ctx, grant["role"], entry, f"future_job_permissions[{pos}].role")
        dept = office = None
        ok = role is not None
        if grant.get("department") is not None:
            dept = ctx.resolve("department", grant["department"], entry.at(f"future_job_permissions[{pos}].department"))
            ok = ok and dept is not None
        if grant.get("office") is not None:
            office = ctx.resolve("office", grant["office"], entry.at(f"future_job_permissions[{pos}].office"))
            ok = ok and office is not None
        if ok and role is not None:
            desired[(role, dept, office)] = None
    live_rows: dict[tuple[int, Handle | None, Handle | None], int] = {}
    if isinstance(user, int):
        rows = ctx.live_rows("future_job_permissions")
        for row_id in ctx.rows_by("future_job_permissions", "user_id").get(user, ()):
            r = rows[row_id]
            live_rows[(int(r["role_id"]), r.get("department_id"), r.get("office_id"))] = row_id
    for scope in sorted(desired, key=str):
        if scope in live_rows:
            ctx.same("future_job_permission")
            continue
        role, dept, office = scope
        body: dict[str, Any] = {"user_id": ref(user), "role_id": role}
        if dept is not None:
            body["department_id"] = ref(dept)
        if office is not None:
            body["office_id"] = ref(office)
        match = {"user_id": ref(user), "role_id": role, "department_id": ref(dept), "office_id": ref(office)}
        settle = Settle(FJP, {"user_ids": [ref(user)]}, match)
        ctx.add("future_job_permission", Change(
            "create", "future_job_permission", f"{email}: {_scope_name(ctx, scope)}",
            f"future_job_permission:{user}:{scope}", fields=_scope_fields(ctx, scope, after=True),
            writes=(Write("POST", FJP, body, settle),)))
    for scope, row_id in sorted(live_rows.items(), key=str):
        if scope in desired:
            continue
        settle = Settle(FJP, {"ids": [row_id]}, {"id": row_id}, "absent")
        ctx.add("future_job_permission_delete", Change(
            "delete", "future_job_permission", f"{email}: {_scope_name(ctx, scope)}",
            f"future_job_permission:{row_id}", row_id, removal=True, fields=_scope_fields(ctx, scope, after=False),
            reasons=("not in the manifest", FUTURE_DELETE_KEEPS),
            writes=(Write("DELETE", f"{FJP}/{row_id}", None, settle),)))


def _scope_name(ctx: Context, scope: tuple[int, Handle | None, Handle | None]) -> str:
    role, dept, office = scope
    where = [str(ctx.indices["department"].display(dept))] if dept is not None else []
    where += [str(ctx.indices["office"].display(office))] if office is not None else []
    return f"{_role_name(ctx, role)} on future jobs in {' / '.join(where) if where else 'every department and office'}"


def _scope_fields(ctx: Context, scope: tuple[int, Handle | None, Handle | None], *, after: bool) -> dict[str, FieldChange]:
    role, dept, office = scope
    values = {
        "role": _role_name(ctx, role),
        "department": ctx.indices["department"].display(dept),
        "office": ctx.indices["office"].display(office),
    }
    return {k: FieldChange(None, v) if after else FieldChange(v, None) for k, v in values.items()}
