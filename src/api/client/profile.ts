/** Profiles (spec: Client-Server § Profiles). */
import type { Hono } from "hono";
import { z } from "zod";
import { getUser, setProfileField } from "../../storage/d1/users";
import type { AppEnv } from "../app-env";
import { forbidden, MatrixError, missingParam, notFound } from "../errors";
import { clientPaths, route } from "../route";
import type { Deps } from "../../services/deps";

const FIELDS = ["displayname", "avatar_url"] as const;
type Field = (typeof FIELDS)[number];

async function loadProfile(deps: Deps, userId: string) {
  const user = await getUser(deps.env.DB, userId);
  if (!user || user.deactivated) throw notFound("Profile not found");
  return user;
}

function fieldOf(key: string): Field {
  if ((FIELDS as readonly string[]).includes(key)) return key as Field;
  throw new MatrixError("M_NOT_FOUND", `Profile field ${key} is not supported`);
}

function validate(field: Field, value: unknown): string | null {
  // A body without the field is a client mistake, not a request to clear it (that is null, "" or DELETE).
  if (value === undefined) throw missingParam(`Missing key '${field}'`);
  if (value === null) return null;
  if (typeof value !== "string") throw new MatrixError("M_BAD_JSON", `${field} must be a string`);
  if (field === "displayname" && value.length > 256) throw new MatrixError("M_INVALID_PARAM", "displayname is too long");
  if (field === "avatar_url" && value !== "" && !/^mxc:\/\/[^/]+\/[A-Za-z0-9_-]+$/.test(value)) {
    throw new MatrixError("M_INVALID_PARAM", "avatar_url must be an mxc:// URI");
  }
  return value === "" ? null : value;
}

export function registerProfileRoutes(app: Hono<AppEnv>): void {
  // GET /_matrix/client/v3/profile/{userId}
  route(app, {
    method: "GET",
    paths: clientPaths("/profile/:userId"),
    auth: "optional",
    handler: async ({ deps, params }) => {
      const user = await loadProfile(deps, params.userId!);
      return { displayname: user.displayname ?? undefined, avatar_url: user.avatar_url ?? undefined };
    },
  });

  // GET /_matrix/client/v3/profile/{userId}/{keyName}
  route(app, {
    method: "GET",
    paths: clientPaths("/profile/:userId/:field"),
    auth: "optional",
    handler: async ({ deps, params }) => {
      const field = fieldOf(params.field!);
      const user = await loadProfile(deps, params.userId!);
      const value = user[field];
      if (value === null) throw notFound(`No ${field} set`);
      return { [field]: value };
    },
  });

  // PUT /_matrix/client/v3/profile/{userId}/{keyName}
  route(app, {
    method: "PUT",
    paths: clientPaths("/profile/:userId/:field"),
    auth: "user",
    body: z.looseObject({}),
    handler: async ({ deps, params, session, body }) => {
      if (params.userId !== session.userId) throw forbidden("You cannot change another user's profile");
      const field = fieldOf(params.field!);
      const value = validate(field, body[field]);
      await setProfileField(deps.env.DB, session.userId, field, value);
      return {};
    },
  });

  // DELETE /_matrix/client/v3/profile/{userId}/{keyName} (v1.16)
  route(app, {
    method: "DELETE",
    paths: clientPaths("/profile/:userId/:field"),
    auth: "user",
    handler: async ({ deps, params, session }) => {
      if (params.userId !== session.userId) throw forbidden("You cannot change another user's profile");
      await setProfileField(deps.env.DB, session.userId, fieldOf(params.field!), null);
      return {};
    },
  });
}
