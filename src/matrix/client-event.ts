/**
 * The client-server event format (spec: Client-Server § Room event format, ClientEvent): the
 * federation-only fields are dropped, redacted events are served pruned with `redacted_because`,
 * and `unsigned` carries `age`, `prev_content` and, for the sender's own device, `transaction_id`.
 */
import type { JsonObject } from "./canonical-json";
import type { RoomEvent } from "./events";
import { redactEvent } from "./redaction";
import type { RoomVersion } from "./room-versions";

export interface ClientEvent {
  event_id: string;
  room_id: string;
  sender: string;
  type: string;
  content: JsonObject;
  origin_server_ts: number;
  state_key?: string;
  redacts?: string;
  unsigned?: JsonObject;
}

export interface ClientEventOptions {
  now: number;
  /** The redaction event that applies to this event, if any. */
  redactedBecause?: ClientEvent;
  prevContent?: JsonObject;
  prevSender?: string;
  transactionId?: string;
  /** Extra unsigned fields, such as bundled aggregations under `m.relations`. */
  extraUnsigned?: JsonObject;
}

export function toClientEvent(event: RoomEvent, version: RoomVersion, opts: ClientEventOptions): ClientEvent {
  const source = opts.redactedBecause ? redactEvent(event, version) : event;
  const out: ClientEvent = {
    event_id: event.event_id,
    room_id: event.room_id,
    sender: event.sender,
    type: event.type,
    content: source.content,
    origin_server_ts: event.origin_server_ts,
  };
  if (typeof event.state_key === "string") out.state_key = event.state_key;
  // v11 moved `redacts` into content; clients of every version still read the top-level key.
  const redacts = event.redacts ?? (typeof event.content.redacts === "string" ? event.content.redacts : undefined);
  if (event.type === "m.room.redaction" && redacts && !opts.redactedBecause) out.redacts = redacts;
  const unsigned: JsonObject = { age: Math.max(0, opts.now - event.origin_server_ts) };
  const replaces = (event.unsigned as JsonObject | undefined)?.replaces_state;
  if (typeof replaces === "string") unsigned.replaces_state = replaces;
  if (opts.prevContent) unsigned.prev_content = opts.prevContent;
  if (opts.prevSender) unsigned.prev_sender = opts.prevSender;
  if (opts.redactedBecause) unsigned.redacted_because = opts.redactedBecause as unknown as JsonObject;
  if (opts.transactionId) unsigned.transaction_id = opts.transactionId;
  if (opts.extraUnsigned) Object.assign(unsigned, opts.extraUnsigned);
  const inviteState = (event.unsigned as JsonObject | undefined)?.invite_room_state;
  if (inviteState) unsigned.invite_room_state = inviteState;
  out.unsigned = unsigned;
  return out;
}

/** Stripped state for invites and knocks (spec: § Stripped state). */
export function toStrippedState(event: RoomEvent): JsonObject {
  return { type: event.type, state_key: event.state_key ?? "", sender: event.sender, content: event.content };
}
