/**
 * The `m.room.power_levels` rule (spec: rooms/v1 rule 10, v6–9 rule 9, v10–11 rule 9,
 * v12 rule 10).
 */
import { POWER_LEVEL_DEFAULTS, POWER_LEVEL_FIELDS, POWER_LEVEL_WIRE_NAME, parsePowerLevels, roomCreators } from "./power-levels";
import type { AuthContext } from "./context";
import { ALLOW, deny, EventType, type AuthResult } from "./types";

export function checkPowerLevelsEvent(ctx: AuthContext, senderLevel: number): AuthResult {
  const { event, version } = ctx;

  // v10+ 9.1–9.3 (v1–9 10.1 for users, and — see parsePowerLevels — the rest): every value must
  // be a valid power level and users keys valid user ids.
  const parsed = parsePowerLevels(event.content, version);
  if (!parsed.ok) return deny(`invalid m.room.power_levels: ${parsed.reason}`);
  const next = parsed.levels;

  // v12 10.4: users must not contain the create event's sender or any additional creator.
  if (version.privilegedCreators) {
    for (const creator of roomCreators(ctx.create, version)) {
      if (next.users.has(creator)) return deny(`room creator ${creator} must not appear in users`);
    }
  }

  // If there is no previous m.room.power_levels event in the room, allow.
  const current = ctx.state(EventType.powerLevels, "");
  if (!current) return ALLOW;
  // The current event was parsed when the context was built; it must be readable to compare.
  if (ctx.levelsProblem !== undefined || !ctx.levels) return deny(ctx.levelsProblem ?? "no current power levels");
  const prev = ctx.levels;

  // For users_default, events_default, state_default, ban, redact, kick, invite: for each that was
  // added, changed or removed, neither the current nor the new value may exceed the sender's level.
  // "Power levels are inferred from defaults when not explicitly supplied", so an absent side is
  // compared at its default (as ruma does; Synapse skips the absent side).
  for (const field of POWER_LEVEL_FIELDS) {
    const before = prev.fields[field];
    const after = next.fields[field];
    if (before === after) continue;
    const currentValue = before ?? POWER_LEVEL_DEFAULTS[field];
    const newValue = after ?? POWER_LEVEL_DEFAULTS[field];
    if (currentValue > senderLevel || newValue > senderLevel) {
      return deny(`the sender cannot change ${POWER_LEVEL_WIRE_NAME[field]} beyond their own level`);
    }
  }

  // events (and from v6 notifications): an entry changed or removed must not currently exceed the
  // sender's level; an entry added or changed must not newly exceed it.
  const maps: ["events" | "notifications", ReadonlyMap<string, number>, ReadonlyMap<string, number>][] = [
    ["events", prev.events, next.events],
  ];
  if (version.limitNotificationsPowerLevels) maps.push(["notifications", prev.notifications, next.notifications]);
  for (const [name, before, after] of maps) {
    for (const key of new Set([...before.keys(), ...after.keys()])) {
      const b = before.get(key);
      const a = after.get(key);
      if (b === a) continue;
      if (b !== undefined && b > senderLevel) return deny(`the sender cannot change ${name}.${key}, which is above their level`);
      if (a !== undefined && a > senderLevel) return deny(`the sender cannot set ${name}.${key} above their own level`);
    }
  }

  // users: an entry changed or removed, other than the sender's own, must be below the sender's
  // level; an entry added or changed must not exceed it.
  for (const userId of new Set([...prev.users.keys(), ...next.users.keys()])) {
    const b = prev.users.get(userId);
    const a = next.users.get(userId);
    if (b === a) continue;
    if (b !== undefined && userId !== event.sender && b >= senderLevel) {
      return deny(`the sender cannot change the level of ${userId}, which is not below their own`);
    }
    if (a !== undefined && a > senderLevel) return deny(`the sender cannot raise ${userId} above their own level`);
  }

  return ALLOW;
}
