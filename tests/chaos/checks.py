"""What the chaos suite asserts about one seed: no duplicate, the desired state, a journal true to the server.

Each function returns a list of problems (empty: the check holds), each a sentence naming the objects,
so one failing seed reports everything that is wrong with it at once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

Row = Mapping[str, Any]


def _repeated(what: str, rows: Iterable[Row], identity: Callable[[Row], Hashable | None]) -> list[str]:
    ids: dict[Hashable, list[int]] = defaultdict(list)
    for row in rows:
        key = identity(row)
        if key is not None:
            ids[key].append(int(row["id"]))
    return [f"{what} {key!r} is held by {len(held)} live objects (ids {', '.join(map(str, held))})"
            for key, held in ids.items() if len(held) > 1]


def duplicates(state: Mapping[str, list[Row]]) -> list[str]:
    """Every identity held by two live objects: department/office names under one parent (offices: any)
    and external ids, custom field keys and names per field type, active option names and external ids
    per field, tag names (case-insensitively), user emails (case-insensitively), one grant per user and
    job, one future permission per scope, one scoping row per pair."""
    active_options = [o for o in state["custom_field_options"] if o["active"]]
    return [
        *_repeated("department name under parent", state["departments"], lambda r: (r["parent_id"], r["name"])),
        *_repeated("department external_id", state["departments"], lambda r: r["external_id"]),
        *_repeated("office name", state["offices"], lambda r: r["name"]),
        *_repeated("office external_id", state["offices"], lambda r: r["external_id"]),
        *_repeated("custom field key", state["custom_fields"], lambda r: r["name_key"]),
        *_repeated("custom field name", state["custom_fields"], lambda r: (r["field_type"], r["name"])),
        *_repeated("option name", active_options, lambda r: (r["custom_field_id"], r["name"])),
        *_repeated("option external_id", state["custom_field_options"],
                   lambda r: (r["custom_field_id"], r["external_id"]) if r["external_id"] else None),
        *_repeated("tag name", state["candidate_tags"], lambda r: str(r["name"]).casefold()),
        *_repeated("user email", state["users"],
                   lambda r: str(r["primary_email"]).casefold() if r["primary_email"] else None),
        *_repeated("job permission", state["user_job_permissions"], lambda r: (r["user_id"], r["job_id"])),
        *_repeated("future job permission", state["future_job_permissions"],
                   lambda r: (r["user_id"], r["role_id"], r["department_id"], r["office_id"])),
        *_repeated("department scoping", state["custom_field_departments"],
                   lambda r: (r["custom_field_id"], r["department_id"])),
        *_repeated("office scoping", state["custom_field_offices"], lambda r: (r["custom_field_id"], r["office_id"])),
    ]


def _tree(kind: str, rows: list[Row], wanted: list[dict[str, Any]]) -> list[str]:
    problems = []
    by_ext = {r["external_id"]: r for r in rows if r["external_id"]}
    ext_of = {r["id"]: r["external_id"] for r in rows}
    for item in wanted:
        row = by_ext.get(item["external_id"])
        if row is None:
            problems.append(f"{kind} {item['external_id']} is missing")
            continue
        parent = ext_of.get(row["parent_id"]) if row["parent_id"] is not None else None
        if (row["name"], parent) != (item["name"], item["parent"]):
            problems.append(f"{kind} {item['external_id']} is {row['name']!r} under {parent}, "
                            f"wanted {item['name']!r} under {item['parent']}")
    if len(rows) != len(wanted):
        problems.append(f"{len(rows)} live {kind}s, wanted {len(wanted)}")
    return problems


def desired_state(state: Mapping[str, list[Row]], model: Mapping[str, Any]) -> list[str]:
    """How the live state differs from the desired model (tests/chaos/org.py `desired()`), compared directly."""
    problems = [*_tree("department", state["departments"], model["departments"]),
                *_tree("office", state["offices"], model["offices"])]
    dept_ext = {r["id"]: r["external_id"] for r in state["departments"]}
    office_ext = {r["id"]: r["external_id"] for r in state["offices"]}
    fields = state["custom_fields"]
    if len(fields) != len(model["custom_fields"]):
        problems.append(f"{len(fields)} live custom fields, wanted {len(model['custom_fields'])}")
    for item in model["custom_fields"]:
        found = [f for f in fields if (f["name_key"] == item["key"] if "key" in item
                                       else (f["field_type"], f["name"]) == (item["field_type"], item["name"]))]
        if len(found) != 1:
            problems.append(f"custom field {item['name']!r} matches {len(found)} live fields")
            continue
        field = found[0]
        if field["name"] != item["name"] or field.get("description") != item.get("description", field.get("description")):
            problems.append(f"custom field {item['name']!r} is {field['name']!r} / {field.get('description')!r}")
        if "options" in item:
            live = sorted((o for o in state["custom_field_options"] if o["custom_field_id"] == field["id"] and o["active"]),
                          key=lambda o: o["sort_order"])
            names = [o["name"] for o in live]
            if names != [o["name"] for o in item["options"]]:
                problems.append(f"custom field {item['name']!r} has the active options {names}")
            by_ext = {o["external_id"]: o["name"] for o in live if o["external_id"]}
            problems += [f"option {o['external_id']} of {item['name']!r} is {by_ext.get(o['external_id'])!r}, "
                         f"wanted {o['name']!r}"
                         for o in item["options"] if "external_id" in o and by_ext.get(o["external_id"]) != o["name"]]
        for section, collection, column, ext in (("departments", "custom_field_departments", "department_id", dept_ext),
                                                 ("offices", "custom_field_offices", "office_id", office_ext)):
            if section in item:
                scoped = sorted(ext[r[column]] for r in state[collection] if r["custom_field_id"] == field["id"])
                if scoped != sorted(item[section]):
                    problems.append(f"custom field {item['name']!r} is scoped to the {section} {scoped}")
    tags = sorted(t["name"] for t in state["candidate_tags"])
    if tags != sorted(model["candidate_tags"]):
        problems.append(f"the live tags are {tags}")
    problems += _users(state, model["users"], dept_ext, office_ext)
    return problems


def _users(state: Mapping[str, list[Row]], wanted: list[dict[str, Any]], dept_ext: Mapping[int, Any],
           office_ext: Mapping[int, Any]) -> list[str]:
    problems = []
    by_email = {str(u["primary_email"]).casefold(): u for u in state["users"] if u["primary_email"]}
    roles = {r["id"]: r["name"] for r in state["user_roles"]}
    jobs = {j["id"]: j["requisition_id"] for j in state["jobs"]}
    grants: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for g in state["user_job_permissions"]:
        if not g["automated"]:
            grants[g["user_id"]].add((jobs[g["job_id"]], roles[g["role_id"]]))
    futures: dict[int, set[tuple[str, Any, Any]]] = defaultdict(set)
    for f in state["future_job_permissions"]:
        futures[f["user_id"]].add((roles[f["role_id"]], dept_ext.get(f["department_id"]), office_ext.get(f["office_id"])))
    for item in wanted:
        user = by_email.get(item["email"].casefold())
        if user is None:
            problems.append(f"user {item['email']} is missing")
            continue
        for key in ("first_name", "last_name", "job_title"):
            if key in item and user[key] != item[key]:
                problems.append(f"user {item['email']} has {key} {user[key]!r}, wanted {item[key]!r}")
        if "active" in item and user["deactivated"] == item["active"]:
            problems.append(f"user {item['email']} is {'deactivated' if user['deactivated'] else 'active'}")
        if "job_permissions" in item:
            want = {(p["job"], p["role"]) for p in item["job_permissions"]}
            if grants[user["id"]] != want:
                problems.append(f"user {item['email']} has the grants {sorted(grants[user['id']])}")
        if "future_job_permissions" in item:
            want_f = {(p["role"], p.get("department"), p.get("office")) for p in item["future_job_permissions"]}
            if futures[user["id"]] != want_f:
                problems.append(f"user {item['email']} has the future permissions {sorted(futures[user['id']], key=str)}")
    return problems


def committed(entry: Row) -> bool:
    """Whether the sandbox committed a logged write: a 2xx answer, or a 2xx answer whose reply was dropped."""
    status = entry["status"] if entry["status"] else entry.get("lost_status")
    return isinstance(status, int) and 200 <= status < 300


DONE = ("completed", "settled")
"""Journal outcome statuses (besides a 2xx status) that say the write took effect."""


def journal_matches_log(events: Sequence[Row], log: Sequence[Row]) -> list[str]:
    """The journal of one apply against the sandbox's log of the same run.

    The apply sends its writes one after another, so its journal's writes (intents, numbered; the rows of
    one bulk request share a number) and the writes the sandbox logged must be the same sequence of
    `METHOD /path`: then every write the server received, committed or not, has its intent in the journal.
    One exception, by design: the HTTP client repeats a request the server refused before processing it
    (429, and 401 with a fresh token) by itself, within the same journal write (docs/harvest-client.md),
    so each such refusal is grouped with the next request to the same `METHOD /path`, the one it repeats
    (`attempts`).
    Each outcome must agree with the log: a write the journal says took effect (2xx, `completed`,
    `settled`) was committed by the server; `settled` only follows a reply that was lost after committing;
    `not committed` only follows a write the server did not commit; an error status is the status the
    server answered. Every intent has an outcome (the runs are never killed).
    """
    problems: list[str] = []
    order: list[int] = []
    sent: dict[int, tuple[str, str]] = {}
    outcomes: dict[int, set[Any]] = defaultdict(set)
    for event in events:
        if event["event"] == "intent":
            if event["write"] not in sent:
                order.append(event["write"])
                sent[event["write"]] = (str(event["method"]).removesuffix(" (bulk)"), str(event["path"]))
        elif event["event"] == "outcome":
            outcomes[event["write"]].add(event["status"])
    received = [attempt[-1] for attempt in attempts([r for r in log if r["method"] != "GET" and r["path"] != "/token"])]
    journalled = [sent[n] for n in order]
    served = [(str(r["method"]), str(r["path"])) for r in received]
    if journalled != served:
        at = next((i for i, (a, b) in enumerate(zip(journalled, served, strict=False)) if a != b),
                  min(len(journalled), len(served)))
        problems.append(f"the journal's {len(journalled)} writes and the server's {len(served)} differ from write "
                        f"{at + 1}: journal {journalled[at:at + 3]}, server {served[at:at + 3]}")
        return problems
    for number, entry in zip(order, received, strict=True):
        what = f"write {number} ({entry['method']} {entry['path']}, server status {entry['status']}, " \
               f"fault {entry['fault']}, lost status {entry.get('lost_status')})"
        statuses = outcomes.get(number)
        if not statuses:
            problems.append(f"{what} has no outcome in the journal")
            continue
        for status in statuses:
            done = status in DONE or (isinstance(status, int) and 200 <= status < 300)
            if done and not committed(entry):
                problems.append(f"{what}: the journal says {status!r} but the server did not commit it")
            if status == "settled" and entry["fault"] != "drop_after":
                problems.append(f"{what}: settled although its reply was not lost after committing")
            if status == "not committed" and committed(entry):
                problems.append(f"{what}: the journal says not committed but the server committed it")
            if isinstance(status, int) and status >= 300 and status != entry["status"]:
                problems.append(f"{what}: the journal says {status}")
    return problems


REFUSED_BEFORE_PROCESSING = (429, 401)
"""Answers after which the HTTP client sends the same request again by itself (nothing was processed)."""


def attempts(writes: Sequence[Row]) -> list[list[Row]]:
    """The logged writes grouped by logical request: each run of refusals the client repeats
    (`REFUSED_BEFORE_PROCESSING`) goes with the next write to the same `METHOD /path`; the last entry of a
    group is the request's final attempt. A trailing run of refusals (the client gave up) is one group."""
    groups: list[list[Row]] = []
    pending: list[Row] = []
    for entry in writes:
        if pending and (entry["method"], entry["path"]) != (pending[0]["method"], pending[0]["path"]):
            groups.append(pending)  # refusals not followed by their repeat: the client gave up
            pending = []
        pending.append(entry)
        if entry["status"] not in REFUSED_BEFORE_PROCESSING:
            groups.append(pending)
            pending = []
    if pending:
        groups.append(pending)
    return groups


def fault_counts(log: Iterable[Row]) -> Counter[str]:
    """Injected faults by kind (429, 500, 503, drop_before, drop_after, latency), from the sandbox's request log."""
    counts: Counter[str] = Counter()
    for entry in log:
        if entry["fault"]:
            counts[str(entry["fault"])] += 1
        if entry.get("latency"):
            counts["latency"] += 1
    return counts
