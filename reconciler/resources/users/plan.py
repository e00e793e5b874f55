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
* Two `job_permissions` entries of one user naming one job (by id, requisition id or name), or two
  `future_job_permissions` entries with one scope once their department/office references are resolved,
  are errors naming both lines: otherwise one of them would silently win.
* The tool never cuts its own access (`_refuse_self_harm`): deactivating the acting user
  (GREENHOUSE_USER_ID), revoking its site admin role, or deactivating/revoking every active site admin is
  an error at the manifest line that asks for it.

Desired and live meet in the canonical shapes of `definition` (`USER_SHAPE`, `JOB_PERMISSION_SHAPE`,
`FUTURE_JOB_PERMISSION_SHAPE`): the profile's field comparison and PATCH body are `Shape.diff`, POST
bodies are `Shape.to_api`. What is not a field comparison (identity and email moves, activate/deactivate,
revoking a site admin, role changes, automated grants) is explicit below, on canonical values.

Every lookup goes through `Lookups`, built once per plan: an organisation has tens of thousands of
grants, so nothing here scans a whole collection per user, per grant or per reference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from reconciler.manifest.checks import place
from reconciler.manifest.model import Entry, Source
from reconciler.manifest.text import quote
from reconciler.plan import Change, FieldChange, Settle, Write
from reconciler.planner.context import Context, Handle, path_ref, ref, suggestion
from reconciler.resources.canonical import Resolve
from reconciler.resources.users.definition import (
    FUTURE_JOB_PERMISSION_SHAPE,
    JOB_PERMISSION_SHAPE,
    USER_SHAPE,
)

PATH = "/v3/users"
#: Emails compare case-insensitively when a write is settled by re-reading.
EMAIL_KEYS = ("primary_email",)
UJP = "/v3/user_job_permissions"
FJP = "/v3/future_job_permissions"

#: Said on every future-permission delete (documented on delete_v3-future-job-permissions-id).
FUTURE_DELETE_KEEPS = ("jobs that already granted the user this role through it keep those automated grants: "
                       '"Previously-created jobs that already granted the user a role via this permission are not '
                       'affected" (Greenhouse)')

#: The profile fields PATCH sets (plan order). Email, active and site_admin are not a PATCH of a field.
PATCHED = ("first_name", "last_name", "employee_id", "job_title", "offices", "departments")
#: What POST /v3/users documents [seed], in its order; the rest of a new user's profile follows as a PATCH.
POSTED = ("first_name", "last_name", "email", "employee_id")
AFTER_POST = ("job_title", "offices", "departments")

#: A future grant's scope: (role, department or None, office or None); None = any.
Scope = tuple[int, Handle | None, Handle | None]


@dataclass(frozen=True)
class Cut:
    """A planned change that takes access away from a live user: `deactivate` or `revoke` (site admin)."""

    user_id: int
    email: str
    action: str
    at: Source


class Lookups:
    """Every index the users plan looks objects up in, each built once per plan (on first use).

    Live users by primary email, by verified secondary email and by employee id (lowercased emails;
    service accounts, whose primary email is "", are left out); live grants and future grants by user;
    jobs by id, requisition id and name, and the job ids live grants name; roles by name. Suggestion
    lists for unknown jobs and roles are built on the first unknown one.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.users = ctx.live_rows("users")
        self.by_email: dict[str, list[int]] = defaultdict(list)
        self.by_secondary: dict[str, list[int]] = defaultdict(list)
        self.by_employee: dict[str, list[int]] = defaultdict(list)
        for uid, row in self.users.items():
            primary = str(row.get("primary_email") or "").lower()
            if not primary:  # a service account (primary_email "" [2nd]): never matched, listed or changed
                continue
            self.by_email[primary].append(uid)
            for e in row.get("emails") or []:
                if str(e).lower() != primary:
                    self.by_secondary[str(e).lower()].append(uid)
            if row.get("employee_id"):
                self.by_employee[str(row["employee_id"])].append(uid)
        self.roles = ctx.live_rows("user_roles")
        self.jobs = ctx.live_rows("jobs")
        self.grants = ctx.live_rows("user_job_permissions")
        self.futures = ctx.live_rows("future_job_permissions")
        #: Job and role references already resolved: grants of many users name the same few jobs and roles.
        self.resolved: dict[tuple[str, Any], int] = {}

    # -- indexes over the live collections (the context caches each grouping once per plan) ---------
    @cached_property
    def grants_by_user(self) -> Mapping[Any, tuple[int, ...]]:
        return self.ctx.rows_by("user_job_permissions", "user_id")

    @cached_property
    def futures_by_user(self) -> Mapping[Any, tuple[int, ...]]:
        return self.ctx.rows_by("future_job_permissions", "user_id")

    @cached_property
    def granted_jobs(self) -> Mapping[Any, tuple[int, ...]]:
        return self.ctx.rows_by("user_job_permissions", "job_id")

    @cached_property
    def jobs_by_requisition(self) -> Mapping[Any, tuple[int, ...]]:
        return self.ctx.rows_by("jobs", "requisition_id")

    @cached_property
    def jobs_by_name(self) -> Mapping[Any, tuple[int, ...]]:
        return self.ctx.rows_by("jobs", "name")

    @cached_property
    def roles_by_name(self) -> Mapping[Any, tuple[int, ...]]:
        return self.ctx.rows_by("user_roles", "name")

    @cached_property
    def job_texts(self) -> list[str]:
        """What an unknown job reference is compared with for a suggestion."""
        names = [str(j.get("requisition_id")) for j in self.jobs.values() if j.get("requisition_id")]
        return names + [str(j.get("name")) for j in self.jobs.values()]

    @cached_property
    def job_admin_roles(self) -> list[str]:
        """What an unknown role is compared with for a suggestion."""
        return [str(r.get("name")) for r in self.roles.values() if r.get("role_type") == "job_admin"]

    # -- references ----------------------------------------------------------------------------------
    def job(self, value: Any, at: Callable[[str], Source], relative: str) -> int | None:
        """Resolve a job id, requisition id or name to one job id, or record a problem at `at(relative)`.

        Job ids that live permission rows reference resolve too: a confidential job is missing from the jobs
        list even for site admins [seed], but an id that a live grant names exists.
        """
        text = str(value)
        known = self.resolved.get(("job", text))
        if known is not None:
            return known
        as_id = int(text) if text.isascii() and text.isdigit() and str(int(text)) == text else None
        found = {as_id} if as_id is not None and as_id in self.jobs else set()
        found |= set(self.jobs_by_requisition.get(text, ())) | set(self.jobs_by_name.get(text, ()))
        if not found and text.isascii() and text.isdigit() and int(text) in self.granted_jobs:
            found = {int(text)}
        if len(found) == 1:
            self.resolved["job", text] = next(iter(found))
            return self.resolved["job", text]
        if not found:
            self.ctx.problem(at(relative), f'unknown job "{text}"{suggestion(text, self.job_texts)}')
        else:
            shown = ", ".join(f'{self.jobs[i].get("name")} (id {i})' for i in sorted(found))
            self.ctx.problem(at(relative), f'ambiguous job "{text}": it matches {len(found)} jobs: {shown}; '
                             "use the job id")
        return None

    def role(self, name: Any, at: Callable[[str], Source], relative: str) -> int | None:
        """Resolve a job_admin role by name, or record a problem at `at(relative)`."""
        known = self.resolved.get(("role", name))
        if known is not None:
            return known
        found = list(self.roles_by_name.get(name, ()))
        if len(found) != 1:
            what = "unknown" if not found else "ambiguous"
            self.ctx.problem(at(relative), f'{what} role "{name}"{suggestion(str(name), self.job_admin_roles)}')
            return None
        role_type = self.roles[found[0]].get("role_type")
        if role_type != "job_admin":
            self.ctx.problem(at(relative), f'role "{name}" is a {role_type} role; job permissions need a job_admin role')
            return None
        self.resolved["role", name] = found[0]
        return found[0]

    def resolver(self, at: Callable[[str], Source]) -> Resolve:
        """A `Resolve` for the shapes: jobs and roles here, departments and offices by the plan's indexes.

        Problems are located with `at(relative path)`, computed only when there is one for jobs and roles
        (a plan resolves tens of thousands of them).
        """
        def resolve(kind: str, value: Any, relative: str) -> Handle | None:
            if kind == "job":
                return self.job(value, at, relative)
            if kind == "role":
                return self.role(value, at, relative)
            return self.ctx.resolve(kind, value, at(relative))

        return resolve

    # -- what a person reads ---------------------------------------------------------------------------
    def display(self, kind: str, handle: Handle | None) -> Any:
        return self.ctx.indices[kind].display(handle)

    def job_name(self, job_id: int) -> str:
        job = self.jobs.get(job_id, {})
        return str(job.get("requisition_id") or job.get("name") or job_id)

    def role_name(self, role_id: Any) -> str:
        return str(self.roles.get(int(role_id), {}).get("name", role_id))


def _within(entry: Entry, prefix: str) -> Callable[[str], Source]:
    """Locate a path relative to `prefix` inside `entry` ("" = the entry itself)."""
    return lambda relative: entry.at(f"{prefix}.{relative}" if prefix else relative)


def plan_users(ctx: Context) -> None:
    look = Lookups(ctx)
    claimed: dict[int, Entry] = {}
    cuts: list[Cut] = []
    for entry in ctx.entries("users"):
        data = entry.data
        email = str(data["email"])
        candidates = look.by_email.get(email.lower()) or look.by_secondary.get(email.lower()) or []
        if not candidates and data.get("employee_id"):
            candidates = look.by_employee.get(str(data["employee_id"]), [])
        if len(set(candidates)) > 1:
            ctx.problem(entry.source, f'"{email}" matches {len(set(candidates))} live users (ids {sorted(set(candidates))})')
            continue
        live_id = candidates[0] if candidates else None
        if live_id is not None and live_id in claimed:
            ctx.problem(entry.source, f"matches the same live user (id {live_id}) as {claimed[live_id].source}")
            continue
        if live_id is None:
            # On a problem (recorded), the user's grants are still resolved, for problems of their own.
            handle: Handle = _create(ctx, look, entry) or f"user:{email.lower()}"
            site_admin = False
        else:
            claimed[live_id] = entry
            handle, site_admin = _update(ctx, look, entry, look.users[live_id], cuts)
        if site_admin:
            # Site admins are absent from the permission lists and grants to them are 204 no-ops [seed]:
            # empty lists agree with the API; any grant listed would show as drift forever, so say so.
            if data.get("job_permissions") or data.get("future_job_permissions"):
                ctx.warn(f"{entry.source}: {email} is a site admin: job permissions are implicit, so "
                         "job_permissions/future_job_permissions are not planned")
            continue
        if "job_permissions" in data:
            _plan_job_permissions(ctx, look, entry, handle)
        if "future_job_permissions" in data:
            _plan_future_permissions(ctx, look, entry, handle)
    _refuse_self_harm(ctx, look, cuts)
    identities = [[row.get("primary_email"), *(row.get("emails") or [])] for row in look.users.values()]
    identities += [[str(e.data["email"])] for e in ctx.entries("users")]
    ctx.check_protect("users", "user", identities)

    if "users" in ctx.manifest.present and ctx.prune_mode("users") != "off":
        for uid, row in sorted(look.users.items()):
            if uid not in claimed and row.get("primary_email"):
                ctx.add_unmanaged("user", str(row.get("primary_email")), uid)


def _pick(canonical: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The fields of `canonical` among `names`, in the order of `names`."""
    return {n: canonical[n] for n in names if n in canonical}


def _shown(look: Lookups, name: str, value: Any) -> Any:
    """A desired profile value as the plan shows it: names for offices and departments."""
    attr = USER_SHAPE.get(name)
    if attr is not None and attr.many:
        return sorted(str(look.display(attr.ref or "", h)) for h in value)
    return value


def _create(ctx: Context, look: Lookups, entry: Entry) -> Handle | None:
    data = entry.data
    email = str(data["email"])
    missing = [k for k in ("first_name", "last_name") if not data.get(k)]
    if missing:
        ctx.problem(entry.source, f'user "{email}" does not exist in Greenhouse; creating it needs {" and ".join(missing)}')
        return None
    if data.get("site_admin") is True:
        ctx.problem(entry.at("site_admin"), "site_admin: true cannot be granted through the Harvest API")
        return None
    desired = USER_SHAPE.from_manifest(data, look.resolver(_within(entry, "")))
    if desired is None:
        return None
    key = f"user:{email.lower()}"
    posted = USER_SHAPE.to_api(_pick(desired, POSTED))
    body = {k: posted[k] for k in ("first_name", "last_name", "primary_email", "employee_id") if k in posted}
    settle = Settle(PATH, {"primary_email": email}, {"primary_email": email}, casefold=EMAIL_KEYS)
    writes = [Write("POST", PATH, body, settle)]
    # POST /v3/users documents only names, email and employee_id [seed]: the rest follows as a PATCH.
    rest = USER_SHAPE.to_api(_pick(desired, AFTER_POST))
    if rest:
        writes.append(Write("PATCH", f"{PATH}/{path_ref(key)}", rest,
                            Settle(PATH, {"primary_email": email}, {"primary_email": email, **rest}, casefold=EMAIL_KEYS)))
    fields = {"email": FieldChange(None, email),
              **{k: FieldChange(None, _shown(look, k, v)) for k, v in _pick(desired, PATCHED).items()}}
    if desired.get("active") is False:
        writes.append(Write("POST", f"{PATH}/{path_ref(key)}/deactivate", None,
                            Settle(PATH, {"primary_email": email}, {"primary_email": email, "deactivated": True},
                                   casefold=EMAIL_KEYS)))
        fields["active"] = FieldChange(None, False)
    ctx.add("user", Change("create", "user", email, key, fields=fields, writes=tuple(writes)))
    return key


def _update(ctx: Context, look: Lookups, entry: Entry, row: Mapping[str, Any],
            cuts: list[Cut]) -> tuple[Handle, bool]:
    """Plan one matched user's changes. Returns (its handle, is a site admin after apply).

    A planned deactivation or site admin revoke is also appended to `cuts` (for `_refuse_self_harm`). On a
    problem (an unknown office, site_admin: true), the profile is not planned, but the handle is returned so
    that the user's grants are still resolved, each problem reported.
    """
    live_id = int(row["id"])
    desired = USER_SHAPE.from_manifest(entry.data, look.resolver(_within(entry, "")))
    if desired is None:
        return live_id, bool(row.get("site_admin"))
    live = USER_SHAPE.from_api(row)
    email = str(desired["email"])
    diff = USER_SHAPE.diff(desired, live, look.display, PATCHED)
    fields, body, reasons = diff.fields, diff.body, diff.reasons
    primary = str(live["email"] or "")
    if primary.lower() != email.lower():
        verified = {str(e).lower() for e in row.get("emails") or []}
        if email.lower() in verified:
            fields["email"] = FieldChange(primary, email)
            body.update(USER_SHAPE.to_api({"email": email}))
            reasons.append("primary email moves to a verified address")
        else:
            ctx.warn(f"{entry.source}: {primary} cannot become {email}: the new address must first be added and "
                     "verified as a secondary email (POST /v3/user_emails); not planned", unreachable=True)
    writes: list[Write] = []
    if body:
        settle = Settle(PATH, {"ids": [live_id]}, {"id": live_id, **body},
                        casefold=EMAIL_KEYS if "primary_email" in body else ())
        writes.append(Write("PATCH", f"{PATH}/{live_id}", body, settle, bulk=f"PATCH {PATH}/bulk",
                            bulk_item={"id": live_id, **body}))
    removal = destructive = False
    site_admin = bool(live["site_admin"])
    if "active" in desired and desired["active"] != live["active"]:
        if desired["active"]:
            fields["active"] = FieldChange(False, True)
            writes.append(_action(live_id, "activate", {"deactivated": False}))
            reasons.append("reactivated")
        elif ctx.protected("users", primary, email):
            ctx.warn(f"{entry.at('active')}: user {email} is protected (policy.protect.users): not deactivated",
                     unreachable=True)
        else:
            fields["active"] = FieldChange(True, False)
            writes.append(_action(live_id, "deactivate", {"deactivated": True}))
            reasons.append("deactivated (reversible; permissions are kept)")
            removal = True
            cuts.append(Cut(live_id, email, "deactivate", entry.at("active")))
    if "site_admin" in desired and bool(desired["site_admin"]) != site_admin:
        if desired["site_admin"]:
            ctx.problem(entry.at("site_admin"), f"{email} is not a site admin, and site_admin: true cannot be "
                        "granted through the Harvest API (grant it in Greenhouse)")
            return live_id, False
        if ctx.protected("users", primary, email):
            ctx.warn(f"{entry.at('site_admin')}: user {email} is protected (policy.protect.users): site admin not "
                     "revoked", unreachable=True)
        else:
            fields["site_admin"] = FieldChange(True, False)
            writes.insert(0, _action(live_id, "revoke_permissions", {"site_admin": False}))
            reasons.append("site admin revoked: the API also deletes the user's job permissions")
            removal = destructive = True
            site_admin = False
            cuts.append(Cut(live_id, email, "revoke", entry.at("site_admin")))
    if not writes:
        ctx.same("user")
    else:
        ctx.add("user", Change("update", "user", email, f"user:{live_id}", live_id, destructive=destructive,
                               removal=removal, fields=fields, reasons=tuple(reasons), writes=tuple(writes)))
    return live_id, site_admin


def _refuse_self_harm(ctx: Context, look: Lookups, cuts: Sequence[Cut]) -> None:
    """Record a problem at each planned cut that would lock the tool (or everyone) out of the organisation.

    * Deactivating the acting user (`ctx.acting_user_id`, GREENHOUSE_USER_ID) makes every later request of the
      same apply fail (the token's `sub` is no longer an active user); revoking its site admin role makes
      every later list answer empty (silently: see `acting.check_acting_user`).
    * Deactivating or revoking every active site admin leaves nobody to administer the organisation or to
      name in GREENHOUSE_USER_ID. Counted: live active site admins with an email, minus those the plan
      deactivates or revokes; service accounts (no email) are not people and are never managed here, so they
      do not count. Reactivations are not counted back (their order against the cuts is not guaranteed).
      This rule holds for service-user tokens (no GREENHOUSE_USER_ID) too.
    """
    acting = ctx.acting_user_id
    for cut in cuts:
        if cut.user_id == acting:
            effect = ("every later request of the apply would fail (the token's user would no longer be active)"
                      if cut.action == "deactivate" else
                      "every later read would silently answer nothing (only a site admin sees the organisation)")
            what = "deactivates" if cut.action == "deactivate" else "revokes the site admin role of"
            ctx.problem(cut.at, f"this plan {what} {cut.email}, the user this tool acts as (GREENHOUSE_USER_ID "
                        f"{acting}): {effect}; set GREENHOUSE_USER_ID to another site admin first, or leave "
                        "this user as it is")
    admins = {uid for uid, row in look.users.items()
              if row.get("site_admin") and not row.get("deactivated") and row.get("primary_email")}
    lost = [cut for cut in cuts if cut.user_id in admins]
    if not admins or {cut.user_id for cut in lost} != admins:
        return
    places = ", ".join(f"{cut.email} at {place(cut.at)}" for cut in lost)
    who = f"the only one, {places}" if len(admins) == 1 else f"all {len(admins)} of them: {places}"
    for cut in lost:
        ctx.problem(cut.at, f"this plan leaves the organisation with no active site admin (it deactivates or "
                    f"revokes {who}), so nobody could administer Greenhouse or be named in GREENHOUSE_USER_ID "
                    "afterwards; keep at least one active site admin")


def _action(live_id: int, verb: str, result: Mapping[str, Any]) -> Write:
    settle = Settle(PATH, {"ids": [live_id]}, {"id": live_id, **result})
    return Write("POST", f"{PATH}/{live_id}/{verb}", None, settle, bulk=f"POST {PATH}/{verb}/bulk", bulk_item=live_id)


# -- per-job grants ----------------------------------------------------------------------------------


def _plan_job_permissions(ctx: Context, look: Lookups, entry: Entry, user: Handle) -> None:
    """Plan the user's hand-made grants: `job_permissions` is their exact set; automated rows are left alone."""
    email = str(entry.data["email"])
    desired: dict[int, int] = {}
    first: dict[int, int] = {}
    listed = entry.data["job_permissions"]
    for pos, grant in enumerate(listed):
        wanted = JOB_PERMISSION_SHAPE.from_manifest(grant, look.resolver(_within(entry, f"job_permissions[{pos}]")))
        if wanted is None:
            continue
        job_id = wanted["job"]
        if job_id in first:
            prior = first[job_id]
            roles = sorted({str(listed[prior]["role"]), str(grant["role"])})
            clash = f"roles {quote(roles[0])} and {quote(roles[1])}" if len(roles) == 2 else f"role {quote(roles[0])}"
            ctx.problem(entry.at(f"job_permissions[{pos}]"),
                        f"job {quote(str(grant['job']))} is the same job as {quote(str(listed[prior]['job']))} at "
                        f"{place(entry.at(f'job_permissions[{prior}]'))} ({look.job_name(job_id)}, id {job_id}; "
                        f"{clash}): a user holds one grant per job, so keep one entry")
            continue
        first[job_id] = pos
        desired[job_id] = wanted["role"]
    hand_made: dict[int, tuple[int, int]] = {}
    automated: dict[int, list[tuple[int, int]]] = defaultdict(list)
    if isinstance(user, int):
        for row_id in look.grants_by_user.get(user, ()):
            row = look.grants[row_id]
            live = JOB_PERMISSION_SHAPE.from_api(row)
            if row.get("automated") is True:
                automated[live["job"]].append((row_id, live["role"]))
            else:
                hand_made[live["job"]] = (row_id, live["role"])
    for job_id, grants in sorted(automated.items()):
        for row_id, role_id in grants:
            listed = " It also satisfies the grant the manifest lists." if desired.get(job_id) == role_id else ""
            ctx.add_greenhouse_managed(
                "user_job_permission", f"{email} on {look.job_name(job_id)}", row_id,
                f"automated grant of role {look.role_name(role_id)}, made by Greenhouse from a future job "
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
                superseded[job_id] = (f"role {look.role_name(role_id)} on this job is granted by Greenhouse's "
                                      f"automated grant (id {by_greenhouse[0]}), which the manifest's grant accepts")
            continue
        name = f"{email} on {look.job_name(job_id)}"
        body = {"user_id": ref(user), **JOB_PERMISSION_SHAPE.to_api({"job": job_id, "role": role_id})}
        create = Write("POST", UJP, body, Settle(UJP, {"user_ids": [ref(user)]}, dict(body)))
        if before is not None:
            ctx.add("user_job_permission", _change_role(look, name, before, role_id, create))
            continue
        others = [f"{look.role_name(role)} (id {row_id})" for row_id, role in automated.get(job_id, [])]
        reasons = (f"an automated grant on this job stays as it is (Greenhouse's): {', '.join(others)}",) if others else ()
        ctx.add("user_job_permission", Change(
            "create", "user_job_permission", name, f"user_job_permission:{user}:{job_id}",
            fields={"role": FieldChange(None, look.role_name(role_id))}, reasons=reasons, writes=(create,)))
    for job_id, before in sorted(hand_made.items()):
        if job_id not in desired:
            ctx.add("user_job_permission_delete", _delete_grant(look, email, job_id, before, "not in the manifest"))
        elif job_id in superseded:
            ctx.add("user_job_permission_delete", _delete_grant(look, email, job_id, before, superseded[job_id]))


def _change_role(look: Lookups, name: str, before: tuple[int, int], role_id: int, create: Write) -> Change:
    """One update: create the grant with the new role, then delete the old row (falling back to delete first)."""
    row_id, role_before = before
    delete = Write("DELETE", f"{UJP}/{row_id}", None, Settle(UJP, {"ids": [row_id]}, {"id": row_id}, "absent"))
    reasons = (
        f"role changes from {look.role_name(role_before)} to {look.role_name(role_id)}: the new grant is created "
        "first, then the old one is deleted, so the user keeps access to the job throughout",
        "if Greenhouse refuses a second grant on the same job (a duplicate-grant 422), the old grant is deleted "
        "first and the new one created again",
    )
    return Change("update", "user_job_permission", name, f"user_job_permission:{row_id}", row_id,
                  fields={"role": FieldChange(look.role_name(role_before), look.role_name(role_id))},
                  reasons=reasons, writes=(create, delete), fallback="delete_first")


def _delete_grant(look: Lookups, email: str, job_id: int, live: tuple[int, int], reason: str) -> Change:
    row_id, role_id = live
    settle = Settle(UJP, {"ids": [row_id]}, {"id": row_id}, "absent")
    return Change("delete", "user_job_permission", f"{email} on {look.job_name(job_id)}",
                  f"user_job_permission:{row_id}", row_id, removal=True,
                  fields={"role": FieldChange(look.role_name(role_id), None)}, reasons=(reason,),
                  writes=(Write("DELETE", f"{UJP}/{row_id}", None, settle),))


# -- future-job grants ---------------------------------------------------------------------------------


def _scope(canonical: Mapping[str, Any]) -> Scope:
    return canonical["role"], canonical["department"], canonical["office"]


def _plan_future_permissions(ctx: Context, look: Lookups, entry: Entry, user: Handle) -> None:
    email = str(entry.data["email"])
    desired: dict[Scope, int] = {}
    for pos, grant in enumerate(entry.data["future_job_permissions"]):
        at = _within(entry, f"future_job_permissions[{pos}]")
        wanted = FUTURE_JOB_PERMISSION_SHAPE.from_manifest(grant, look.resolver(at))
        if wanted is None:
            continue
        scope = _scope(wanted)
        if scope in desired:
            ctx.problem(entry.at(f"future_job_permissions[{pos}]"),
                        f"the same future job permission as at "
                        f"{place(entry.at(f'future_job_permissions[{desired[scope]}]'))} ({_scope_name(look, scope)}): "
                        "their department/office references name the same objects, so keep one entry")
            continue
        desired[scope] = pos
    live_rows: dict[Scope, int] = {}
    if isinstance(user, int):
        for row_id in look.futures_by_user.get(user, ()):
            live_rows[_scope(FUTURE_JOB_PERMISSION_SHAPE.from_api(look.futures[row_id]))] = row_id
    for scope in sorted(desired, key=str):
        if scope in live_rows:
            ctx.same("future_job_permission")
            continue
        role, dept, office = scope
        match = {"user_id": ref(user),
                 **FUTURE_JOB_PERMISSION_SHAPE.to_api({"role": role, "department": dept, "office": office})}
        body = {k: v for k, v in match.items() if v is not None}  # an unscoped grant leaves the key out
        settle = Settle(FJP, {"user_ids": [ref(user)]}, match)
        ctx.add("future_job_permission", Change(
            "create", "future_job_permission", f"{email}: {_scope_name(look, scope)}",
            f"future_job_permission:{user}:{scope}", fields=_scope_fields(look, scope, after=True),
            writes=(Write("POST", FJP, body, settle),)))
    for scope, row_id in sorted(live_rows.items(), key=str):
        if scope in desired:
            continue
        settle = Settle(FJP, {"ids": [row_id]}, {"id": row_id}, "absent")
        ctx.add("future_job_permission_delete", Change(
            "delete", "future_job_permission", f"{email}: {_scope_name(look, scope)}",
            f"future_job_permission:{row_id}", row_id, removal=True, fields=_scope_fields(look, scope, after=False),
            reasons=("not in the manifest", FUTURE_DELETE_KEEPS),
            writes=(Write("DELETE", f"{FJP}/{row_id}", None, settle),)))


def _scope_name(look: Lookups, scope: Scope) -> str:
    role, dept, office = scope
    where = [str(look.display("department", dept))] if dept is not None else []
    where += [str(look.display("office", office))] if office is not None else []
    return f"{look.role_name(role)} on future jobs in {' / '.join(where) if where else 'every department and office'}"


def _scope_fields(look: Lookups, scope: Scope, *, after: bool) -> dict[str, FieldChange]:
    role, dept, office = scope
    values = {
        "role": look.role_name(role),
        "department": look.display("department", dept),
        "office": look.display("office", office),
    }
    return {k: FieldChange(None, v) if after else FieldChange(v, None) for k, v in values.items()}
