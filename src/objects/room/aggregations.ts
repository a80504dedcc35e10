/**
 * Bundled aggregations (spec: Client-Server § Aggregations of child events): the summary of an
 * event's children the server puts under `unsigned["m.relations"]` when it serves the event.
 *
 * - `m.replace` (§ Event replacements, v1.7+): the most recent valid edit, served as the edit
 *   event itself; the original's content is left alone. An edit is valid when it has the
 *   original's sender and type, neither is a state event, the original is not itself an edit, and
 *   the edit carries `m.new_content` (an encrypted edit carries it inside the ciphertext, so that
 *   check is skipped for `m.room.encrypted`). Nothing is bundled for a redacted original.
 * - `m.thread` (§ Threading): `latest_event` (itself with bundled aggregations), `count` and
 *   `current_user_participated`.
 * - `m.reference` (§ Reference relations): `chunk` of `{event_id}`.
 * - `m.annotation` is not aggregated by servers (§ Event annotations, v1.7).
 *
 * State events get no bundle (the spec's warning in § Aggregations of child events). Only live
 * children count: redacted, rejected and soft-failed children don't, nor children the viewer may
 * not see (history visibility) or sent by a user the viewer ignores.
 */
import type { ClientEvent } from "../../matrix/client-event";
import type { JsonObject } from "../../matrix/canonical-json";
import type { RoomEvent } from "../../matrix/events";
import type { RelationsStore, ThreadReplyRow } from "./relations-store";
import type { RoomStore, StoredEvent } from "./room-store";

export interface AggregationViewer {
  userId: string;
  /** The viewer's ignored users (`m.ignored_user_list`); their children are left out. */
  ignoredUsers?: readonly string[];
}

export interface AggregationContext {
  store: RoomStore;
  relations: RelationsStore;
  /** Whether the viewer may see a child (history visibility). */
  canSee: (stored: StoredEvent) => boolean;
  /**
   * Serializes a child for the bundle: `nested` true for a thread's latest event, whose own
   * children are bundled too (without a nested thread: threads can't nest); false for an edit,
   * which is served as a plain event.
   */
  format: (stored: StoredEvent, nested: boolean) => ClientEvent;
}

export interface AggregationOptions {
  /** False for events bundled inside another bundle, so nesting stops after one level. */
  includeThread: boolean;
}

/** How many rows are read per query while looking for the newest child the viewer may see. */
const SCAN_BATCH = 20;

/**
 * A thread reply as history visibility sees it, built from its relation row: a non-state
 * event's visibility depends on its state group and stream position, never on its content, so a
 * thread's replies are counted without parsing each one.
 */
function replyStub(row: ThreadReplyRow): StoredEvent {
  return {
    stream: row.stream,
    event: { event_id: row.event_id, type: row.type, sender: row.sender, content: {} } as unknown as RoomEvent,
    stateGroup: row.state_group,
    rejected: null,
    softFailed: false,
    outlier: false,
    redactedBy: null,
  };
}

function relatesTo(content: JsonObject): JsonObject | undefined {
  const rel = content["m.relates_to"];
  return rel && typeof rel === "object" && !Array.isArray(rel) ? (rel as JsonObject) : undefined;
}

function isObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The `unsigned["m.relations"]` value for `parent` as `viewer` sees it, or undefined when there is nothing to bundle. */
export function bundledAggregations(
  ctx: AggregationContext,
  parent: StoredEvent,
  viewer: AggregationViewer,
  opts: AggregationOptions = { includeThread: true },
): JsonObject | undefined {
  if (typeof parent.event.state_key === "string" || parent.rejected || parent.outlier) return undefined;
  const relTypes = ctx.relations.childRelTypes(parent.event.event_id);
  if (relTypes.length === 0) return undefined;
  const ignored = new Set(viewer.ignoredUsers ?? []);
  const bundle: JsonObject = {};
  if (relTypes.includes("m.replace")) {
    const edit = latestEdit(ctx, parent);
    if (edit) bundle["m.replace"] = ctx.format(edit, false) as unknown as JsonObject;
  }
  if (opts.includeThread && relTypes.includes("m.thread")) {
    const thread = threadSummary(ctx, parent, viewer.userId, ignored);
    if (thread) bundle["m.thread"] = thread;
  }
  if (relTypes.includes("m.reference")) {
    const chunk = references(ctx, parent.event.event_id, ignored);
    if (chunk.length) bundle["m.reference"] = { chunk };
  }
  return Object.keys(bundle).length ? bundle : undefined;
}

/** The most recent valid edit of `parent` the viewer may see (spec: § Validity of replacement events). */
function latestEdit(ctx: AggregationContext, parent: StoredEvent): StoredEvent | undefined {
  const original = parent.event;
  // Edits of a redacted event are not bundled; an edit can't be edited.
  if (parent.redactedBy || relatesTo(original.content)?.rel_type === "m.replace") return undefined;
  for (let offset = 0; ; offset += SCAN_BATCH) {
    const ids = ctx.relations.replacementCandidates(original.event_id, original.sender, original.type, SCAN_BATCH, offset);
    for (const id of ids) {
      const edit = ctx.store.getEvent(id);
      if (!edit || typeof edit.event.state_key === "string") continue;
      if (edit.event.type !== "m.room.encrypted" && !isObject(edit.event.content["m.new_content"])) continue;
      if (ctx.canSee(edit)) return edit;
    }
    if (ids.length < SCAN_BATCH) return undefined;
  }
}

function threadSummary(ctx: AggregationContext, root: StoredEvent, userId: string, ignored: Set<string>): JsonObject | undefined {
  const rootId = root.event.event_id;
  let count = 0;
  let participated = root.event.sender === userId;
  for (const row of ctx.relations.threadReplies(rootId)) {
    if (row.sender === userId) participated = true;
    if (ignored.has(row.sender)) continue;
    const stored = row.is_state ? ctx.store.getEvent(row.event_id) : replyStub(row);
    if (stored && ctx.canSee(stored)) count += 1;
  }
  if (count === 0) return undefined;
  const latest = newestVisibleChild(ctx, rootId, "m.thread", ignored);
  if (!latest) return undefined;
  return {
    latest_event: ctx.format(latest, true) as unknown as JsonObject,
    count,
    current_user_participated: participated,
  };
}

function newestVisibleChild(ctx: AggregationContext, parentId: string, relType: string, ignored: Set<string>): StoredEvent | undefined {
  let after: number | undefined;
  for (;;) {
    const rows = ctx.relations.children(parentId, relType, "b", SCAN_BATCH, after);
    for (const row of rows) {
      const stored = ctx.store.getEvent(row.event_id);
      if (stored && !ignored.has(stored.event.sender) && ctx.canSee(stored)) return stored;
      after = row.stream;
    }
    if (rows.length < SCAN_BATCH) return undefined;
  }
}

function references(ctx: AggregationContext, parentId: string, ignored: Set<string>): JsonObject[] {
  const chunk: JsonObject[] = [];
  let after: number | undefined;
  for (;;) {
    const rows = ctx.relations.children(parentId, "m.reference", "f", 100, after);
    for (const row of rows) {
      after = row.stream;
      const stored = ctx.store.getEvent(row.event_id);
      if (stored && !ignored.has(stored.event.sender) && ctx.canSee(stored)) chunk.push({ event_id: row.event_id });
    }
    if (rows.length < 100) return chunk;
  }
}
