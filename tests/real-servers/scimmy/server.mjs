// A minimal SCIM server built the way SCIMMY's README shows: SCIMMY resources with an
// in-memory store, served by scimmy-routers under /scim/v2 on 127.0.0.1.
// Only the storage is ours; parsing, PATCH, filters and responses are SCIMMY's.
// Usage: node server.mjs PORT TOKEN
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";
import {randomUUID} from "node:crypto";

const [port, token] = process.argv.slice(2);
if (!port || !token) {
    console.error("usage: node server.mjs PORT TOKEN");
    process.exit(2);
}

SCIMMY.Config.set({patch: true, filter: 200, sort: true, changePassword: false, etag: false, bulk: false});

// One in-memory store per resource type. RFC 7643 §4.1.1 makes userName unique (case-insensitive),
// and §4.2 displayName identifies a group, so a duplicate is 409 "uniqueness" (RFC 7644 §3.3).
function store(kind, uniqueAttribute) {
    const records = new Map();
    const clone = (value) => JSON.parse(JSON.stringify(value));
    const notFound = (id) => new SCIMMY.Types.Error(404, null, `Resource ${id} not found`);
    return {
        egress(resource) {
            if (resource.id) {
                if (!records.has(resource.id)) throw notFound(resource.id);
                return clone(records.get(resource.id));
            }
            const all = [...records.values()].map(clone);
            return resource.filter ? resource.filter.match(all) : all;
        },
        ingress(resource, instance) {
            const now = new Date().toISOString();
            const previous = resource.id ? records.get(resource.id) : undefined;
            if (resource.id && !previous) throw notFound(resource.id);
            const data = clone(instance);
            const unique = String(data[uniqueAttribute] ?? "").toLowerCase();
            for (const [id, other] of records) {
                if (id !== resource.id && String(other[uniqueAttribute] ?? "").toLowerCase() === unique) {
                    throw new SCIMMY.Types.Error(409, "uniqueness", `${kind} with ${uniqueAttribute} "${data[uniqueAttribute]}" already exists`);
                }
            }
            const id = resource.id ?? randomUUID();
            delete data.schemas;
            const record = {...data, id, meta: {created: previous?.meta?.created ?? now, lastModified: now}};
            records.set(id, record);
            return clone(record);
        },
        degress(resource) {
            if (!records.delete(resource.id)) throw notFound(resource.id);
        },
    };
}

for (const [Resource, kind, unique] of [[SCIMMY.Resources.User, "User", "userName"], [SCIMMY.Resources.Group, "Group", "displayName"]]) {
    const s = store(kind, unique);
    const declared = SCIMMY.Resources.declare(Resource)
        .ingress((resource, instance) => s.ingress(resource, instance))
        .egress((resource) => s.egress(resource))
        .degress((resource) => s.degress(resource));
    if (Resource === SCIMMY.Resources.User) declared.extend(SCIMMY.Schemas.EnterpriseUser, false);
}

const app = express();
app.use("/scim/v2", new SCIMMYRouters({
    type: "bearer",
    handler: (request) => {
        if (request.header("Authorization") !== `Bearer ${token}`) throw new Error("Authorization failed");
        return "scimcheck";
    },
}));
app.listen(Number(port), "127.0.0.1", () => console.log(`scimmy listening on 127.0.0.1:${port}`));
