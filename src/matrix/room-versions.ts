/**
 * Room versions 1–12 (spec: Rooms § Room versions). Each flag is named after the rule that
 * changed, so algorithms switch on behaviour rather than on version numbers.
 */

export type EventIdFormat = "v1" | "v3" | "v4";
export type StateResAlgorithm = "v1" | "v2" | "v2.1";
export type RedactionRules = "v1" | "v9" | "v11";

export interface RoomVersion {
  id: string;
  /** v1/v2: `$opaque:server`; v3: `$` + base64(reference hash); v4+: URL-safe base64. */
  eventIdFormat: EventIdFormat;
  stateRes: StateResAlgorithm;
  /** v5+: signing keys must be valid at the event's `origin_server_ts`. */
  enforceKeyValidity: boolean;
  /** v1–5: `m.room.aliases` has special-cased authorization. */
  specialCaseAliasesAuth: boolean;
  /** v6+: floats and out-of-range integers are invalid in events. */
  strictCanonicalJson: boolean;
  /** v6+: `notifications` power levels are checked on power-level changes. */
  limitNotificationsPowerLevels: boolean;
  /** v7+: the `knock` membership and join rule. */
  knock: boolean;
  /** v8+: the `restricted` join rule with `join_authorised_via_users_server`. */
  restrictedJoins: boolean;
  /** v10+: the `knock_restricted` join rule. */
  knockRestricted: boolean;
  /** v10+: power-level values must be integers, not strings. */
  integerPowerLevels: boolean;
  /** Which redaction algorithm applies. v9 keeps `join_authorised_via_users_server`. */
  redaction: RedactionRules;
  /** v11+: the creator is the create event's `sender`; `creator` is no longer needed. */
  implicitRoomCreator: boolean;
  /** v11+: `redacts` moves into `content`. */
  redactsInContent: boolean;
  /** v12: the room id is derived from the create event's id; creators have infinite power. */
  roomIdFromCreateEvent: boolean;
  /** v12: `content.additional_creators` and privileged creators. */
  privilegedCreators: boolean;
}

const base: Omit<RoomVersion, "id"> = {
  eventIdFormat: "v1",
  stateRes: "v1",
  enforceKeyValidity: false,
  specialCaseAliasesAuth: true,
  strictCanonicalJson: false,
  limitNotificationsPowerLevels: false,
  knock: false,
  restrictedJoins: false,
  knockRestricted: false,
  integerPowerLevels: false,
  redaction: "v1",
  implicitRoomCreator: false,
  redactsInContent: false,
  roomIdFromCreateEvent: false,
  privilegedCreators: false,
};

const v1: RoomVersion = { ...base, id: "1" };
const v2: RoomVersion = { ...v1, id: "2", stateRes: "v2" };
const v3: RoomVersion = { ...v2, id: "3", eventIdFormat: "v3" };
const v4: RoomVersion = { ...v3, id: "4", eventIdFormat: "v4" };
const v5: RoomVersion = { ...v4, id: "5", enforceKeyValidity: true };
const v6: RoomVersion = {
  ...v5,
  id: "6",
  specialCaseAliasesAuth: false,
  strictCanonicalJson: true,
  limitNotificationsPowerLevels: true,
};
const v7: RoomVersion = { ...v6, id: "7", knock: true };
const v8: RoomVersion = { ...v7, id: "8", restrictedJoins: true };
const v9: RoomVersion = { ...v8, id: "9", redaction: "v9" };
const v10: RoomVersion = { ...v9, id: "10", knockRestricted: true, integerPowerLevels: true };
const v11: RoomVersion = { ...v10, id: "11", redaction: "v11", implicitRoomCreator: true, redactsInContent: true };
const v12: RoomVersion = { ...v11, id: "12", stateRes: "v2.1", roomIdFromCreateEvent: true, privilegedCreators: true };

export const ROOM_VERSIONS: ReadonlyMap<string, RoomVersion> = new Map(
  [v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12].map((v) => [v.id, v]),
);

export function getRoomVersion(id: string): RoomVersion | undefined {
  return ROOM_VERSIONS.get(id);
}
