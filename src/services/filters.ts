/**
 * Filters (spec: Client-Server § Filtering): storing a user's filters in D1 and turning the
 * `filter` parameter of /sync, /messages and /context into the internal model. Validation is the
 * pure core's (`matrix/filters`); this decides the error codes: M_BAD_JSON for an uploaded body
 * (the route wrapper), M_INVALID_PARAM for a query parameter.
 */
import { forbidden, invalidParam, notFound } from "../api/errors";
import {
  decodeFilterJson,
  isInlineFilter,
  parseFilter,
  parseRoomEventFilter,
  type Filter,
  type FilterWire,
  type RoomEventFilter,
} from "../matrix/filters";
import { getFilter, insertFilter } from "../storage/d1/filters";
import type { Deps } from "./deps";

/** Filter ids are the decimal numbers we hand out; anything else names no filter. */
const FILTER_ID = /^(0|[1-9][0-9]{0,14})$/;

/**
 * Only a user may create or read their own filters (spec: POST /user/{userId}/filter, "The access
 * token must be authorized to make requests for this user id"; Synapse answers 403 for another
 * user and for a user of another server).
 */
export function assertOwnFilters(deps: Deps, sessionUserId: string, userId: string): void {
  if (!userId.startsWith("@") || !userId.endsWith(`:${deps.config.serverName}`)) throw forbidden("Can only use filters of local users");
  if (userId !== sessionUserId) throw forbidden("Cannot use filters of other users");
}

/** Stores a validated filter as the client sent it and returns its id. */
export async function createFilter(deps: Deps, userId: string, filter: FilterWire): Promise<string> {
  const id = await insertFilter(deps.env.DB, userId, JSON.stringify(filter), deps.now());
  return String(id);
}

/**
 * Stored filters this isolate has read, by user and id. A filter is never changed or deleted once
 * stored (the spec has no way to), so a copy can't go stale; it saves a D1 read on each /sync of a
 * client that syncs with a filter id, as Element does.
 */
const storedFilters = new Map<string, string>();
const MAX_STORED_FILTERS = 10_000;

/** A stored filter in its wire form, or undefined when the user has no filter with that id. */
export async function loadFilterJson(deps: Deps, userId: string, filterId: string): Promise<Record<string, unknown> | undefined> {
  if (!FILTER_ID.test(filterId)) return undefined;
  const key = `${userId}\n${filterId}`;
  let json = storedFilters.get(key);
  if (json === undefined) {
    json = await getFilter(deps.env.DB, userId, Number(filterId));
    if (json === undefined) return undefined;
    if (storedFilters.size >= MAX_STORED_FILTERS) storedFilters.clear();
    storedFilters.set(key, json);
  }
  return JSON.parse(json) as Record<string, unknown>;
}

/** GET /user/{userId}/filter/{filterId}: 404 M_NOT_FOUND for an unknown id (spec). */
export async function downloadFilter(deps: Deps, userId: string, filterId: string): Promise<Record<string, unknown>> {
  const filter = await loadFilterJson(deps, userId, filterId);
  if (!filter) throw notFound("No such filter");
  return filter;
}

/**
 * The `filter` parameter of /sync: inline JSON when it starts with `{` (URL-encoded once more is
 * tolerated), else the id of one of the user's stored filters. No parameter is the empty filter.
 * An unknown id is 400 M_INVALID_PARAM "No such filter", as Synapse answers (the spec gives no
 * code; 404 would read as "no such endpoint" to some clients).
 */
export async function resolveFilter(deps: Deps, userId: string, raw: string | undefined): Promise<Filter> {
  if (raw === undefined || raw === "") return {};
  let json: unknown;
  if (isInlineFilter(raw)) {
    const decoded = decodeFilterJson(raw);
    if (!decoded.ok) throw invalidParam(decoded.error);
    json = decoded.value;
  } else {
    json = await loadFilterJson(deps, userId, raw);
    if (json === undefined) throw invalidParam("No such filter");
  }
  const parsed = parseFilter(json);
  if (!parsed.ok) throw invalidParam(`filter: ${parsed.error}`);
  return parsed.value;
}

/** The `filter` parameter of /messages and /context: an inline RoomEventFilter only (spec). */
export function parseRoomEventFilterParam(raw: string | undefined): RoomEventFilter | undefined {
  if (raw === undefined || raw === "") return undefined;
  const decoded = decodeFilterJson(raw);
  if (!decoded.ok) throw invalidParam(decoded.error);
  const parsed = parseRoomEventFilter(decoded.value);
  if (!parsed.ok) throw invalidParam(`filter: ${parsed.error}`);
  return parsed.value;
}
